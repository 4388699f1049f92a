/* btf_value.h — map keys and values as text, typed by BTF (btf_value.c). */
#ifndef BPFVM_LOADER_BTF_VALUE_H
#define BPFVM_LOADER_BTF_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

/* Render size bytes at data as type type_id (0 or NULL btf: hex bytes) into
 * buf, C-like ("{saddr=10.0.0.1, sport=443}") or as JSON.  Returns the length
 * the full text needs; buf is always NUL-terminated when buf_sz > 0. */
size_t btf_format_value(const struct btf *btf, uint32_t type_id, const void *data, size_t size,
			bool json, char *buf, size_t buf_sz);

#endif
