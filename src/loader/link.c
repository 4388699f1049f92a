/* link.c — turn one program of an object into a self-contained instruction
 * array, as libbpf does before BPF_PROG_LOAD.
 *
 * A program is a function in a SEC() section.  Linking copies it, then every
 * function it reaches through bpf-to-bpf calls or callback pointers (`lddw
 * func`, for bpf_loop and friends) — static or global, usually in .text —
 * appended once each, and patches:
 *   call (R_BPF_64_32 or same-section)  -> pc-relative offset to the copy
 *   call to an extern function          -> kfunc call (src_reg 2, bpfvm's id)
 *   lddw of a map                       -> BPF_PSEUDO_MAP_IDX, map index
 *   lddw of a global variable           -> BPF_PSEUDO_MAP_IDX_VALUE, index + offset
 *   lddw of a .kconfig extern           -> the same, in the kconfig map
 *   lddw of a function                  -> BPF_PSEUDO_FUNC, pc-relative
 * Relocation arithmetic (checked against clang's output): a call's target is
 * sym.value / 8 + imm + 1 in the symbol's section; lddw data and function
 * targets are sym.value + imm bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec/vm.h"
#include "helpers/helpers.h"
#include "loader/object_int.h"

struct func {
	uint32_t sec;		/* ELF section */
	uint32_t start, cnt;	/* instructions in the section */
	uint32_t base;		/* first instruction in the output */
};

struct linker {
	struct bpfvm_object *obj;
	const struct obj_prog *prog;
	struct func *funcs;
	size_t func_cnt;
	struct bpf_insn *out;
	size_t out_cnt, out_cap;
	struct vm_line *lines;
	size_t line_cnt, line_cap;
};

static const struct bpf_insn *sec_insns(const struct bpfvm_object *obj, uint32_t sec,
					uint32_t *cnt)
{
	const struct elf_section *s = elf_section_by_index(obj->elf, sec);
	*cnt = s && s->data ? (uint32_t)(s->size / sizeof(struct bpf_insn)) : 0;
	return s ? (const struct bpf_insn *)s->data : NULL;
}

/* The function of section `sec` containing instruction `off`: the FUNC
 * symbol covering it, else the whole section. */
static int func_extent(const struct bpfvm_object *obj, uint32_t sec, uint32_t off,
		       uint32_t *start, uint32_t *cnt)
{
	uint32_t sec_cnt;
	sec_insns(obj, sec, &sec_cnt);
	if (off >= sec_cnt)
		return -EINVAL;
	for (size_t i = 1; i < obj->elf->sym_cnt; i++) {
		const struct elf_symbol *s = &obj->elf->syms[i];
		if (s->shndx != sec || s->type != ELF_STT_FUNC || s->value % 8 || s->size % 8)
			continue;
		uint64_t a = s->value / 8, b = (s->value + s->size) / 8;
		if (off >= a && off < b && b <= sec_cnt) {
			*start = (uint32_t)a;
			*cnt = (uint32_t)(b - a);
			return 0;
		}
	}
	*start = 0;
	*cnt = sec_cnt;
	return 0;
}

static int add_line(struct linker *l, uint32_t pc, const struct btf_line_info *li)
{
	if (l->line_cnt == l->line_cap) {
		size_t cap = l->line_cap ? l->line_cap * 2 : 64;
		struct vm_line *n = realloc(l->lines, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->lines = n;
		l->line_cap = cap;
	}
	struct vm_line *v = &l->lines[l->line_cnt];
	v->pc = pc;
	v->line = li->line_num;
	v->col = li->col;
	v->file = strdup(li->file ? li->file : "");
	v->text = strdup(li->line ? li->line : "");
	if (!v->file || !v->text) {
		free(v->file);
		free(v->text);
		return -ENOMEM;
	}
	l->line_cnt++;
	return 0;
}

/* Append the function of `sec` containing `off` unless already there; its
 * output base goes to *base (of the function start). */
static int use_func(struct linker *l, uint32_t sec, uint32_t off, const struct func **fout)
{
	uint32_t start, cnt;
	for (size_t i = 0; i < l->func_cnt; i++) {
		const struct func *f = &l->funcs[i];
		if (f->sec == sec && off >= f->start && off < f->start + f->cnt) {
			*fout = f;
			return 0;
		}
	}
	if (func_extent(l->obj, sec, off, &start, &cnt))
		return obj_err(l->obj, -EINVAL, "program '%s': call or function reference to instruction %u of section %u, which is outside it",
			       l->prog->name, off, sec);
	if (l->out_cnt + cnt > 1000000)
		return obj_err(l->obj, -E2BIG, "program '%s': more than 1000000 instructions after linking",
			       l->prog->name);
	struct func *nf = realloc(l->funcs, (l->func_cnt + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	l->funcs = nf;
	if (l->out_cnt + cnt > l->out_cap) {
		size_t cap = (l->out_cnt + cnt) * 2;
		struct bpf_insn *no = realloc(l->out, cap * sizeof(*no));
		if (!no)
			return -ENOMEM;
		l->out = no;
		l->out_cap = cap;
	}
	uint32_t sec_cnt;
	const struct bpf_insn *src = sec_insns(l->obj, sec, &sec_cnt);
	memcpy(l->out + l->out_cnt, src + start, cnt * sizeof(*src));
	struct func *f = &l->funcs[l->func_cnt++];
	*f = (struct func){ sec, start, cnt, (uint32_t)l->out_cnt };
	l->out_cnt += cnt;

	/* line info of this function's instructions */
	const struct elf_section *s = elf_section_by_index(l->obj->elf, sec);
	const struct btf_ext_sec *es = l->obj->ext && s ? btf_ext_sec_by_name(l->obj->ext, s->name) : NULL;
	for (size_t i = 0; es && i < es->line_cnt; i++) {
		uint32_t li = es->lines[i].insn_off / 8;
		if (li >= start && li < start + cnt) {
			int err = add_line(l, f->base + li - start, &es->lines[i]);
			if (err)
				return err;
		}
	}
	*fout = f;
	return 0;
}

/* the relocation of section `sec` at instruction `off`, or NULL */
static const struct elf_reloc *reloc_at(const struct elf_relsec *rs, uint32_t off)
{
	for (size_t i = 0; rs && i < rs->reloc_cnt; i++)
		if (rs->relocs[i].offset == (uint64_t)off * 8)
			return &rs->relocs[i];
	return NULL;
}

static bool sec_is_exec(const struct bpfvm_object *obj, uint32_t sec)
{
	const struct elf_section *s = elf_section_by_index(obj->elf, sec);
	return s && (s->flags & ELF_SHF_EXECINSTR);
}

/* offset of a .kconfig extern in the kconfig map, or -1 */
static int kconfig_var_off(const struct bpfvm_object *obj, const char *name)
{
	for (size_t i = 0; i < obj->var_cnt; i++) {
		const struct obj_var *v = &obj->vars[i];
		if (obj->maps[v->map_idx].kind == OBJ_MAP_KCONFIG && !strcmp(v->name, name))
			return (int)v->off;
	}
	return -1;
}

static int reloc_lddw(struct linker *l, struct bpf_insn *in, uint32_t out_pc,
		      const struct elf_symbol *sym)
{
	struct bpfvm_object *obj = l->obj;
	const char *pn = l->prog->name;
	int64_t off = (int64_t)sym->value + in[0].imm;
	if (sym->shndx == ELF_SHN_UNDEF) {
		int koff = kconfig_var_off(obj, sym->name);
		if (koff < 0)
			return obj_err(obj, -EINVAL, "program '%s' insn %u: extern variable '%s' is a kernel symbol (__ksym), which does not exist in userspace",
				       pn, out_pc, sym->name);
		int idx = obj_map_at(obj, obj->kconfig_sec, 0);
		in[1].imm = koff + in[0].imm;
		in[0].src_reg = BPF_PSEUDO_MAP_IDX_VALUE;
		in[0].imm = idx;
		return 0;
	}
	if (sym->shndx == obj->maps_sec || sym->shndx == obj->legacy_maps_sec) {
		int idx = obj_map_at(obj, sym->shndx, (uint32_t)sym->value);
		if (idx < 0)
			return obj_err(obj, -EINVAL, "program '%s' insn %u: '%s' is not a map definition",
				       pn, out_pc, sym->name);
		in[0].src_reg = BPF_PSEUDO_MAP_IDX;
		in[0].imm = idx;
		in[1].imm = 0;
		return 0;
	}
	if (obj_is_data_sec(obj, sym->shndx)) {
		int idx = obj_map_at(obj, sym->shndx, 0);
		if (off < 0 || off >= obj->maps[idx].value_size)
			return obj_err(obj, -EINVAL, "program '%s' insn %u: offset %lld is outside section %s",
				       pn, out_pc, (long long)off, obj->maps[idx].name);
		in[0].src_reg = BPF_PSEUDO_MAP_IDX_VALUE;
		in[0].imm = idx;
		in[1].imm = (int32_t)off;
		return 0;
	}
	if (sec_is_exec(obj, sym->shndx)) { /* a function pointer */
		if (off < 0 || off % 8)
			return obj_err(obj, -EINVAL, "program '%s' insn %u: bad function reference '%s'",
				       pn, out_pc, sym->name);
		const struct func *f;
		uint32_t target = (uint32_t)(off / 8);
		int err = use_func(l, sym->shndx, target, &f);
		if (err)
			return err;
		in = &l->out[out_pc]; /* use_func may have moved the output */
		in[0].src_reg = BPF_PSEUDO_FUNC;
		in[0].imm = (int32_t)(f->base + (target - f->start)) - (int32_t)out_pc - 1;
		in[1].imm = 0;
		return 0;
	}
	const struct elf_section *s = elf_section_by_index(obj->elf, sym->shndx);
	return obj_err(obj, -EINVAL, "program '%s' insn %u: reference to '%s' in section %s, which bpfvm cannot relocate",
		       pn, out_pc, sym->name[0] ? sym->name : "(section)", s ? s->name : "?");
}

static int reloc_call(struct linker *l, uint32_t out_pc, const struct func *from, uint32_t in_off,
		      const struct elf_symbol *sym)
{
	struct bpfvm_object *obj = l->obj;
	struct bpf_insn *in = &l->out[out_pc];
	uint32_t tsec;
	int64_t toff;
	if (sym && sym->shndx == ELF_SHN_UNDEF) {
		const struct helper_proto *k = kfunc_by_name(sym->name);
		if (!k)
			return obj_err(obj, -EINVAL, "program '%s' insn %u: call to kfunc '%s', which bpfvm does not provide",
				       l->prog->name, out_pc, sym->name);
		in->src_reg = BPF_PSEUDO_KFUNC_CALL;
		in->imm = (int32_t)k->id;
		in->off = 0;
		return 0;
	}
	if (sym) {
		tsec = sym->shndx;
		toff = (int64_t)sym->value / 8 + in->imm + 1;
	} else {
		tsec = from->sec;
		toff = (int64_t)in_off + in->imm + 1;
	}
	if (toff < 0 || toff > UINT32_MAX || !sec_is_exec(obj, tsec))
		return obj_err(obj, -EINVAL, "program '%s' insn %u: call target outside any code section",
			       l->prog->name, out_pc);
	const struct func *f;
	int err = use_func(l, tsec, (uint32_t)toff, &f);
	if (err)
		return err;
	in = &l->out[out_pc];
	in->imm = (int32_t)(f->base + ((uint32_t)toff - f->start)) - (int32_t)out_pc - 1;
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	const struct vm_line *x = a, *y = b;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

int obj_link_prog(struct bpfvm_object *obj, const struct obj_prog *p, struct bpf_insn **insns,
		  size_t *cnt, struct vm_line **lines, size_t *line_cnt)
{
	struct linker l = { .obj = obj, .prog = p };
	const struct func *main_f;
	int err = use_func(&l, p->sec_idx, p->insn_off, &main_f);
	/* process functions in the order they were appended; use_func may append
	 * more while we go */
	for (size_t fi = 0; !err && fi < l.func_cnt; fi++) {
		struct func f = l.funcs[fi];
		const struct elf_relsec *rs = elf_relsec_for(obj->elf, f.sec);
		for (uint32_t i = 0; !err && i < f.cnt; i++) {
			uint32_t out_pc = f.base + i, in_off = f.start + i;
			struct bpf_insn *in = &l.out[out_pc];
			const struct elf_reloc *r = reloc_at(rs, in_off);
			const struct elf_symbol *sym = r ? &obj->elf->syms[r->sym] : NULL;
			if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
				if (i + 1 >= f.cnt) {
					err = obj_err(obj, -EINVAL, "program '%s' insn %u: lddw without its second half",
						      p->name, out_pc);
					break;
				}
				if (sym && r->type == ELF_R_BPF_64_64)
					err = reloc_lddw(&l, in, out_pc, sym);
				i++;
			} else if (in->code == (BPF_JMP | BPF_CALL) &&
				   (in->src_reg == BPF_PSEUDO_CALL || (sym && sym->shndx == ELF_SHN_UNDEF))) {
				err = reloc_call(&l, out_pc, &f, in_off, sym);
			} else if (r && r->type != ELF_R_BPF_NONE) {
				err = obj_err(obj, -EINVAL, "program '%s' insn %u: relocation %s on an instruction that takes none",
					      p->name, out_pc, elf_reloc_type_name(r->type));
			}
		}
	}
	free(l.funcs);
	if (err) {
		free(l.out);
		for (size_t i = 0; i < l.line_cnt; i++) {
			free(l.lines[i].file);
			free(l.lines[i].text);
		}
		free(l.lines);
		return err;
	}
	if (l.line_cnt)
		qsort(l.lines, l.line_cnt, sizeof(*l.lines), cmp_line);
	*insns = l.out;
	*cnt = l.out_cnt;
	*lines = l.lines;
	*line_cnt = l.line_cnt;
	return 0;
}
