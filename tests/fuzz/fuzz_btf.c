/* fuzz_btf.c — libFuzzer target for the BTF and .BTF.ext parsers and every
 * query built on them.
 *
 * Input: either an ELF object (its .BTF and .BTF.ext sections are used, so
 * tests/objects/ seeds the corpus), or raw bytes: a .BTF blob, whose header
 * says where it ends, followed by a .BTF.ext blob.
 *
 *   make fuzz && mkdir -p /tmp/corpus-btf &&
 *   ./build-fuzz/fuzz_btf -max_total_time=60 /tmp/corpus-btf tests/objects/
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const uint8_t *b, size_t bsz, const uint8_t *e, size_t esz)
{
	struct btf_ext *ext;
	struct btf *btf;
	char err[256], out[256];
	uint32_t id;

	btf = btf_parse(b, bsz, err, sizeof(err));
	if (!btf) {
		if (!err[0])
			abort();
		return;
	}
	ext = btf_ext_parse(btf, e, esz, err, sizeof(err));
	if (ext) {
		size_t i, k;

		for (i = 0; i < ext->sec_cnt; i++)
			for (k = 0; k < ext->secs[i].line_cnt; k++)
				if (!ext->secs[i].lines[k].file ||
				    !ext->secs[i].lines[k].line)
					abort();
		btf_ext_free(ext);
	} else if (!err[0]) {
		abort();
	}
	for (id = 0; id <= btf_type_cnt(btf) && id < 4000; id++) {
		const struct btf_type *t = btf_type_by_id(btf, id);
		struct btf_map_def d, in;

		btf_resolve_size(btf, id);
		btf_skip_modifiers(btf, id, NULL);
		btf_find_spin_lock(btf, id);
		btf_dump_type(btf, id, out, sizeof(out));
		btf_type_name(btf, id);
		if (t && btf_kind(t) == BTF_KIND_VAR)
			btf_map_def_parse(btf, id, &d, &in, err, sizeof(err));
		if (t && btf_kind(t) == BTF_KIND_STRUCT)
			btf_map_def_parse_struct(btf, id, "s", false, &d, &in, err,
						 sizeof(err));
	}
	btf_find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
	btf_free(btf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && memcmp(data, "\177ELF", 4) == 0) {
		const struct elf_section *bs, *es;
		struct elf_file *ef;
		char err[256];

		if (elf_parse(data, size, &ef, err, sizeof(err)))
			return 0;
		bs = elf_section_by_name(ef, ".BTF");
		es = elf_section_by_name(ef, ".BTF.ext");
		if (bs && bs->data)
			exercise(bs->data, bs->size, es ? es->data : NULL,
				 es && es->data ? es->size : 0);
		elf_free(ef);
		return 0;
	}
	{
		/* raw: the .BTF header's sections tell where .BTF.ext starts */
		size_t bsz = size;

		if (size >= 24) {
			uint32_t h[6];
			uint64_t end;

			memcpy(h, data, sizeof(h));
			end = (uint64_t)h[1] + (h[2] + (uint64_t)h[3] > h[4] + (uint64_t)h[5] ?
					h[2] + (uint64_t)h[3] : h[4] + (uint64_t)h[5]);
			if (end < size)
				bsz = (size_t)end;
		}
		exercise(data, bsz, data + bsz, size - bsz);
	}
	return 0;
}
