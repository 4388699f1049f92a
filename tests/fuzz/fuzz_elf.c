/* fuzz_elf.c — libFuzzer target for the object parsing path: the ELF reader,
 * then, on whatever parses, everything the loader will do with the result:
 * .BTF (with its DATASEC fixup) and .BTF.ext, BTF-defined maps in .maps,
 * legacy SEC("maps"), SEC() lookups of executable sections, type rendering
 * and size resolution.
 *
 *   make fuzz && mkdir -p /tmp/corpus-elf &&
 *   ./build-fuzz/fuzz_elf -max_total_time=60 /tmp/corpus-elf tests/objects/
 *
 * (libFuzzer writes new inputs into the FIRST directory: keep it outside the
 * repository.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/btf.h"
#include "loader/elf.h"
#include "loader/sections.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_btf(const struct elf_file *ef)
{
	const struct elf_section *bs = elf_section_by_name(ef, ".BTF");
	const struct elf_section *es = elf_section_by_name(ef, ".BTF.ext");
	struct btf_ext *ext;
	struct btf *btf;
	char err[256], out[128];
	uint32_t id;
	int32_t ds;

	if (!bs || !bs->data)
		return;
	btf = btf_parse(bs->data, bs->size, err, sizeof(err));
	if (!btf)
		return;
	if (btf_fixup_datasecs(btf, ef, err, sizeof(err)) != 0) {
		btf_free(btf);
		return;
	}
	if (es && es->data) {
		ext = btf_ext_parse(btf, es->data, es->size, err, sizeof(err));
		btf_ext_free(ext);
	}
	ds = btf_find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
	if (ds > 0) {
		const struct btf_type *t = btf_type_by_id(btf, (uint32_t)ds);
		unsigned i;

		for (i = 0; i < btf_vlen(t); i++) {
			struct btf_map_def d, in;

			if (btf_map_def_parse(btf, btf_var_secinfos(t)[i].type, &d,
					      &in, err, sizeof(err)) == 0 &&
			    d.value_type_id)
				btf_find_spin_lock(btf, d.value_type_id);
		}
	}
	for (id = 0; id < btf_type_cnt(btf) && id < 2000; id++) {
		btf_resolve_size(btf, id);
		btf_skip_modifiers(btf, id, NULL);
		btf_dump_type(btf, id, out, sizeof(out));
	}
	btf_free(btf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct elf_section *maps;
	struct elf_legacy_map *lm;
	struct elf_file *ef;
	char err[256];
	size_t i, cnt;

	if (elf_parse(data, size, &ef, err, sizeof(err)) != 0) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort();	/* every failure must explain itself */
		return 0;
	}
	for (i = 1; i < ef->sec_cnt; i++) {
		struct sec_match m;

		if (ef->secs[i].flags & ELF_SHF_EXECINSTR)
			sec_def_find(ef->secs[i].name, &m);
	}
	for (i = 0; i < ef->relsec_cnt; i++) {
		const struct elf_relsec *rs = &ef->relsecs[i];
		size_t k;

		for (k = 0; k < rs->reloc_cnt; k++)
			if (rs->relocs[k].sym >= ef->sym_cnt ||
			    rs->relocs[k].offset >= ef->secs[rs->target_idx].size)
				abort();	/* the parser promised */
	}
	maps = elf_section_by_name(ef, "maps");
	if (maps && elf_legacy_maps(ef, maps->index, &lm, &cnt, err,
				    sizeof(err)) == 0)
		free(lm);
	walk_btf(ef);
	elf_free(ef);
	return 0;
}
