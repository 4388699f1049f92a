// SPDX-License-Identifier: GPL-2.0
/* core_reloc.bpf.c — a program that needs a CO-RE relocation (a field read
 * through a preserve_access_index struct): bpfvm must refuse it at open
 * with a message saying so, until CO-RE support lands. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_like {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

SEC("socket")
int core_read(struct task_like *t)
{
	return t->tgid;
}

char LICENSE[] SEC("license") = "GPL";
