/* interp_body.h — the interpreter loop, written once and compiled twice.
 *
 * interp.c includes this file with VM_FN naming the function and VM_CHECKED 0
 * (fast: the program was proven safe) or 1 (checked: every memory access is
 * checked against the run's regions and every instruction counts against the
 * budget).  Dispatch is computed goto where the compiler has it, a switch
 * elsewhere (vmdispatch/vmcase/vmbreak, as Lua does it).  The op bodies are
 * generated in families by short local macros, #undef'd at the end.
 */

uint64_t VM_FN(struct bpfvm_run *run, const struct bpfvm_prog *prog, size_t start,
	      const uint64_t args[5], uint64_t fp, int depth0)
{
	const struct vm_insn *const code = prog->code;
	const struct vm_insn *ip = code + start;
	uint64_t reg[11];
	struct vm_frame frames[BPFVM_MAX_CALL_FRAMES];
	int depth = depth0;
#if VM_CHECKED
	uint64_t budget = run->budget;	/* shared with nested calls through run */
#endif

	reg[0] = 0;
	memcpy(&reg[1], args, 5 * sizeof(reg[0]));
	reg[6] = reg[7] = reg[8] = reg[9] = 0;
	reg[10] = fp;

#define DST reg[ip->dst]
#define SRC reg[ip->src]
#define IMM ip->imm
#define PC ((size_t)(ip - code))

#if VM_CHECKED
#define SYNC_OUT() (run->budget = budget)
#define SYNC_IN() (budget = run->budget)
/* charge one instruction; a budget of N runs exactly N instructions */
#define COUNT()                                 \
	do {                                    \
		if (budget-- == 0)              \
			goto out_of_budget;     \
	} while (0)
#else
#define SYNC_OUT() ((void)0)
#define SYNC_IN() ((void)0)
#define COUNT() ((void)0)
#endif

#ifdef VM_COMPUTED_GOTO
	static const void *const labels[OP_CNT] = {
		[OP_INVALID] = &&L_INVALID,
#define OP(name, c, s, v, m, f) [OP_##name] = &&L_##name,
#include "isa/opcodes.def"
#undef OP
	};
#define vmdispatch(x) goto *labels[x];
#define vmcase(l) L_##l:
#define vmbreak                  \
	do {                     \
		ip++;            \
		COUNT();         \
		goto *labels[ip->op]; \
	} while (0)
#else
#define vmdispatch(x) dispatch: switch (x)
#define vmcase(l) case OP_##l:
#define vmbreak                  \
	do {                     \
		ip++;            \
		COUNT();         \
		goto dispatch;   \
	} while (0)
#endif

	/* memory access: the address, then (checked mode) the bounds check */
#if VM_CHECKED
#define CHECK_MEM(addr, size, write)                                       \
	do {                                                               \
		if (!vm_mem_ok(run, (addr), (size), (write))) {            \
			fault_addr = (addr);                               \
			fault_size = (size);                               \
			fault_write = (write);                             \
			goto mem_fault;                                    \
		}                                                          \
	} while (0)
#define CHECK_ALIGN(addr, size)                  \
	do {                                     \
		if ((addr) & ((size) - 1)) {     \
			fault_addr = (addr);     \
			fault_size = (size);     \
			goto misaligned;         \
		}                                \
	} while (0)
	uint64_t fault_addr = 0, fault_size = 0;
	bool fault_write = false;
#else
#define CHECK_MEM(addr, size, write) ((void)0)
#define CHECK_ALIGN(addr, size) ((void)0)
#endif
#define PTR(addr) ((void *)(uintptr_t)(addr))

	COUNT();
	vmdispatch(ip->op)
	{
	vmcase(INVALID)
		/* never reached for a validated program: lddw second halves are skipped */
		vm_fault(run, -EINVAL, PC, "insn %zu: invalid instruction reached", PC);
		return 0;

		/* ---- ALU: families generated per operator ---- */
#define ALU(NAME, OPR)                                                                 \
	vmcase(NAME##64_IMM) DST = DST OPR IMM; vmbreak;                               \
	vmcase(NAME##64_REG) DST = DST OPR SRC; vmbreak;                               \
	vmcase(NAME##32_IMM) DST = (uint32_t)((uint32_t)DST OPR (uint32_t)IMM); vmbreak; \
	vmcase(NAME##32_REG) DST = (uint32_t)((uint32_t)DST OPR (uint32_t)SRC); vmbreak;
	ALU(ADD, +)
	ALU(SUB, -)
	ALU(MUL, *)
	ALU(OR, |)
	ALU(AND, &)
	ALU(XOR, ^)
#undef ALU
#define SHIFT(NAME, OPR)                                                                   \
	vmcase(NAME##64_IMM) DST = DST OPR (IMM & 63); vmbreak;                            \
	vmcase(NAME##64_REG) DST = DST OPR (SRC & 63); vmbreak;                            \
	vmcase(NAME##32_IMM) DST = (uint32_t)((uint32_t)DST OPR (IMM & 31)); vmbreak;      \
	vmcase(NAME##32_REG) DST = (uint32_t)((uint32_t)DST OPR (SRC & 31)); vmbreak;
	SHIFT(LSH, <<)
	SHIFT(RSH, >>)
#undef SHIFT
	vmcase(ARSH64_IMM) DST = (uint64_t)((int64_t)DST >> (IMM & 63)); vmbreak;
	vmcase(ARSH64_REG) DST = (uint64_t)((int64_t)DST >> (SRC & 63)); vmbreak;
	vmcase(ARSH32_IMM) DST = (uint32_t)((int32_t)(uint32_t)DST >> (IMM & 31)); vmbreak;
	vmcase(ARSH32_REG) DST = (uint32_t)((int32_t)(uint32_t)DST >> (SRC & 31)); vmbreak;
	vmcase(NEG64) DST = -DST; vmbreak;
	vmcase(NEG32) DST = (uint32_t)-(uint32_t)DST; vmbreak;
	vmcase(MOV64_IMM) DST = IMM; vmbreak;
	vmcase(MOV64_REG) DST = SRC; vmbreak;
	vmcase(MOV32_IMM) DST = (uint32_t)IMM; vmbreak;
	vmcase(MOV32_REG) DST = (uint32_t)SRC; vmbreak;
	vmcase(MOVSX8_64) DST = (uint64_t)(int64_t)(int8_t)SRC; vmbreak;
	vmcase(MOVSX16_64) DST = (uint64_t)(int64_t)(int16_t)SRC; vmbreak;
	vmcase(MOVSX32_64) DST = (uint64_t)(int64_t)(int32_t)SRC; vmbreak;
	vmcase(MOVSX8_32) DST = (uint32_t)(int32_t)(int8_t)SRC; vmbreak;
	vmcase(MOVSX16_32) DST = (uint32_t)(int32_t)(int16_t)SRC; vmbreak;

	/* division by zero gives 0; modulo by zero leaves dst (32-bit: its low
	 * half, zero-extended); signed INT_MIN / -1 is INT_MIN, INT_MIN % -1 is 0 */
#define DIVMOD(SFX, V)                                                                  \
	vmcase(DIV64_##SFX) DST = (V) ? DST / (V) : 0; vmbreak;                         \
	vmcase(MOD64_##SFX) DST = (V) ? DST % (V) : DST; vmbreak;                       \
	vmcase(DIV32_##SFX) DST = (uint32_t)(V) ? (uint32_t)DST / (uint32_t)(V) : 0; vmbreak; \
	vmcase(MOD32_##SFX) DST = (uint32_t)(V) ? (uint32_t)DST % (uint32_t)(V) : (uint32_t)DST; vmbreak; \
	vmcase(SDIV64_##SFX) {                                                          \
		int64_t d = (int64_t)(V);                                               \
		DST = d == 0 ? 0 : d == -1 ? -DST : (uint64_t)((int64_t)DST / d);        \
		vmbreak;                                                                \
	}                                                                               \
	vmcase(SMOD64_##SFX) {                                                          \
		int64_t d = (int64_t)(V);                                               \
		DST = d == 0 ? DST : d == -1 ? 0 : (uint64_t)((int64_t)DST % d);         \
		vmbreak;                                                                \
	}                                                                               \
	vmcase(SDIV32_##SFX) {                                                          \
		int32_t d = (int32_t)(V);                                               \
		DST = d == 0 ? 0 : d == -1 ? (uint32_t)-(uint32_t)DST                    \
			: (uint32_t)((int32_t)(uint32_t)DST / d);                       \
		vmbreak;                                                                \
	}                                                                               \
	vmcase(SMOD32_##SFX) {                                                          \
		int32_t d = (int32_t)(V);                                               \
		DST = d == 0 ? (uint32_t)DST : d == -1 ? 0                               \
			: (uint32_t)((int32_t)(uint32_t)DST % d);                       \
		vmbreak;                                                                \
	}
	DIVMOD(IMM, IMM)
	DIVMOD(REG, SRC)
#undef DIVMOD

	/* byte order (the host is little-endian: to-le truncates) */
	vmcase(LE16) DST = (uint16_t)DST; vmbreak;
	vmcase(LE32) DST = (uint32_t)DST; vmbreak;
	vmcase(LE64) vmbreak;
	vmcase(BE16) DST = __builtin_bswap16((uint16_t)DST); vmbreak;
	vmcase(BE32) DST = __builtin_bswap32((uint32_t)DST); vmbreak;
	vmcase(BE64) DST = __builtin_bswap64(DST); vmbreak;
	vmcase(BSWAP16) DST = __builtin_bswap16((uint16_t)DST); vmbreak;
	vmcase(BSWAP32) DST = __builtin_bswap32((uint32_t)DST); vmbreak;
	vmcase(BSWAP64) DST = __builtin_bswap64(DST); vmbreak;

	/* ---- jumps ---- */
	vmcase(JA) ip += ip->off; vmbreak;
	vmcase(JA32) ip += ip->off; vmbreak;
#define JCOND(NAME, OPR, T64, T32)                                                      \
	vmcase(NAME##64_IMM) if ((T64)DST OPR (T64)IMM) ip += ip->off; vmbreak;          \
	vmcase(NAME##64_REG) if ((T64)DST OPR (T64)SRC) ip += ip->off; vmbreak;          \
	vmcase(NAME##32_IMM) if ((T32)DST OPR (T32)IMM) ip += ip->off; vmbreak;          \
	vmcase(NAME##32_REG) if ((T32)DST OPR (T32)SRC) ip += ip->off; vmbreak;
	JCOND(JEQ, ==, uint64_t, uint32_t)
	JCOND(JNE, !=, uint64_t, uint32_t)
	JCOND(JGT, >, uint64_t, uint32_t)
	JCOND(JGE, >=, uint64_t, uint32_t)
	JCOND(JLT, <, uint64_t, uint32_t)
	JCOND(JLE, <=, uint64_t, uint32_t)
	JCOND(JSGT, >, int64_t, int32_t)
	JCOND(JSGE, >=, int64_t, int32_t)
	JCOND(JSLT, <, int64_t, int32_t)
	JCOND(JSLE, <=, int64_t, int32_t)
#undef JCOND
	vmcase(JSET64_IMM) if (DST & IMM) ip += ip->off; vmbreak;
	vmcase(JSET64_REG) if (DST & SRC) ip += ip->off; vmbreak;
	vmcase(JSET32_IMM) if ((uint32_t)DST & (uint32_t)IMM) ip += ip->off; vmbreak;
	vmcase(JSET32_REG) if ((uint32_t)DST & (uint32_t)SRC) ip += ip->off; vmbreak;
	vmcase(MAY_GOTO)
		if (run->may_goto_left == 0)
			ip += ip->off;
		else
			run->may_goto_left--;
		vmbreak;

	/* ---- calls ---- */
	vmcase(CALL) {
		const struct vm_helper *h = &prog->helpers[IMM];
		run->cur_fp = reg[10];
		run->cur_depth = depth;
		SYNC_OUT();
		reg[0] = h->fn(reg[1], reg[2], reg[3], reg[4], reg[5], run);
		SYNC_IN();
		if (run->stop) {
			if (run->err)
				goto stopped;
			run->stop = false; /* a tail call ran: leave this function */
			goto do_exit;
		}
		vmbreak;
	}
	vmcase(CALLX) {
		uint64_t target = DST;
		const struct vm_insn *t = (const struct vm_insn *)(uintptr_t)target;
		if (t >= code && t < code + prog->insn_cnt &&
		    ((uintptr_t)t - (uintptr_t)code) % sizeof(*t) == 0) {
			/* a function pointer from lddw src=4 */
			if (depth == BPFVM_MAX_CALL_FRAMES - 1)
				goto too_deep;
			struct vm_frame *fr = &frames[depth++];
			fr->ret = ip + 1;
			memcpy(fr->saved, &reg[6], sizeof(fr->saved));
			reg[10] -= BPFVM_STACK_SIZE;
			ip = t - 1;
			vmbreak;
		}
		const struct vm_helper *h = vm_find_helper(prog, target);
		if (!h) {
			vm_fault(run, -EINVAL, PC, "insn %zu: callx: r%d = 0x%" PRIx64
				 " is neither a helper nor a function", PC, ip->dst, target);
			return 0;
		}
		run->cur_fp = reg[10];
		run->cur_depth = depth;
		SYNC_OUT();
		reg[0] = h->fn(reg[1], reg[2], reg[3], reg[4], reg[5], run);
		SYNC_IN();
		if (run->stop) {
			if (run->err)
				goto stopped;
			run->stop = false;
			goto do_exit;
		}
		vmbreak;
	}
	vmcase(CALL_LOCAL) {
		if (depth == BPFVM_MAX_CALL_FRAMES - 1)
			goto too_deep;
		struct vm_frame *fr = &frames[depth++];
		fr->ret = ip + 1;
		memcpy(fr->saved, &reg[6], sizeof(fr->saved));
		reg[10] -= BPFVM_STACK_SIZE;
		ip += ip->off;
		vmbreak;
	}
	vmcase(CALL_KFUNC) {
		/* bound like a helper: imm is the slot of the kfunc's implementation */
		const struct vm_helper *h = &prog->helpers[IMM];
		run->cur_fp = reg[10];
		run->cur_depth = depth;
		SYNC_OUT();
		reg[0] = h->fn(reg[1], reg[2], reg[3], reg[4], reg[5], run);
		SYNC_IN();
		if (run->stop)
			goto stopped;
		vmbreak;
	}
	vmcase(EXIT) {
	do_exit:
		if (depth == depth0) {
			SYNC_OUT();
			return reg[0];
		}
		struct vm_frame *fr = &frames[--depth];
		memcpy(&reg[6], fr->saved, sizeof(fr->saved));
		ip = fr->ret - 1;
		vmbreak;
	}

	/* ---- 64-bit immediate loads (map and function forms were resolved to
	 * their values when the program was built) ---- */
	vmcase(LDDW)
	vmcase(LDDW_MAP_FD)
	vmcase(LDDW_MAP_VALUE)
	vmcase(LDDW_BTF_ID)
	vmcase(LDDW_FUNC)
	vmcase(LDDW_MAP_IDX)
	vmcase(LDDW_MAP_IDX_VALUE)
		DST = IMM;
		ip++;
		vmbreak;

	/* ---- loads and stores ---- */
#define LDST(SZ, T)                                                             \
	vmcase(LDX_##SZ) {                                                          \
		uint64_t a = SRC + (uint64_t)(int64_t)ip->off;                      \
		T v;                                                                \
		CHECK_MEM(a, sizeof(T), false);                                     \
		memcpy(&v, PTR(a), sizeof(T));                                      \
		DST = v;                                                            \
		vmbreak;                                                            \
	}                                                                           \
	vmcase(ST_##SZ) {                                                           \
		uint64_t a = DST + (uint64_t)(int64_t)ip->off;                      \
		T v = (T)IMM;                                                       \
		CHECK_MEM(a, sizeof(T), true);                                      \
		memcpy(PTR(a), &v, sizeof(T));                                      \
		vmbreak;                                                            \
	}                                                                           \
	vmcase(STX_##SZ) {                                                          \
		uint64_t a = DST + (uint64_t)(int64_t)ip->off;                      \
		T v = (T)SRC;                                                       \
		CHECK_MEM(a, sizeof(T), true);                                      \
		memcpy(PTR(a), &v, sizeof(T));                                      \
		vmbreak;                                                            \
	}                                                                           \
	vmcase(LOAD_ACQ_##SZ) {                                                     \
		uint64_t a = SRC + (uint64_t)(int64_t)ip->off;                      \
		CHECK_MEM(a, sizeof(T), false);                                     \
		CHECK_ALIGN(a, sizeof(T));                                          \
		DST = __atomic_load_n((T *)PTR(a), __ATOMIC_ACQUIRE);               \
		vmbreak;                                                            \
	}                                                                           \
	vmcase(STORE_REL_##SZ) {                                                    \
		uint64_t a = DST + (uint64_t)(int64_t)ip->off;                      \
		CHECK_MEM(a, sizeof(T), true);                                      \
		CHECK_ALIGN(a, sizeof(T));                                          \
		__atomic_store_n((T *)PTR(a), (T)SRC, __ATOMIC_RELEASE);            \
		vmbreak;                                                            \
	}
	LDST(B, uint8_t)
	LDST(H, uint16_t)
	LDST(W, uint32_t)
	LDST(DW, uint64_t)
#undef LDST
#define LDXS(SZ, T)                                                                 \
	vmcase(LDXS_##SZ) {                                                         \
		uint64_t a = SRC + (uint64_t)(int64_t)ip->off;                      \
		T v;                                                                \
		CHECK_MEM(a, sizeof(T), false);                                     \
		memcpy(&v, PTR(a), sizeof(T));                                      \
		DST = (uint64_t)(int64_t)v;                                         \
		vmbreak;                                                            \
	}
	LDXS(B, int8_t)
	LDXS(H, int16_t)
	LDXS(W, int32_t)
#undef LDXS

	/* ---- atomics: on memory, sequentially consistent like the kernel's ---- */
#define ATOMIC(BITS, T, NAME, FN)                                                   \
	vmcase(ATOMIC##BITS##_##NAME) {                                             \
		uint64_t a = DST + (uint64_t)(int64_t)ip->off;                      \
		CHECK_MEM(a, sizeof(T), true);                                      \
		CHECK_ALIGN(a, sizeof(T));                                          \
		FN((T *)PTR(a), (T)SRC, __ATOMIC_SEQ_CST);                          \
		vmbreak;                                                            \
	}                                                                           \
	vmcase(ATOMIC##BITS##_FETCH_##NAME) {                                       \
		uint64_t a = DST + (uint64_t)(int64_t)ip->off;                      \
		CHECK_MEM(a, sizeof(T), true);                                      \
		CHECK_ALIGN(a, sizeof(T));                                          \
		SRC = FN((T *)PTR(a), (T)SRC, __ATOMIC_SEQ_CST);                    \
		vmbreak;                                                            \
	}
	ATOMIC(64, uint64_t, ADD, __atomic_fetch_add)
	ATOMIC(64, uint64_t, OR, __atomic_fetch_or)
	ATOMIC(64, uint64_t, AND, __atomic_fetch_and)
	ATOMIC(64, uint64_t, XOR, __atomic_fetch_xor)
	ATOMIC(32, uint32_t, ADD, __atomic_fetch_add)
	ATOMIC(32, uint32_t, OR, __atomic_fetch_or)
	ATOMIC(32, uint32_t, AND, __atomic_fetch_and)
	ATOMIC(32, uint32_t, XOR, __atomic_fetch_xor)
#undef ATOMIC
#define XCHG(BITS, T)                                                               \
	vmcase(ATOMIC##BITS##_XCHG) {                                               \
		uint64_t a = DST + (uint64_t)(int64_t)ip->off;                      \
		CHECK_MEM(a, sizeof(T), true);                                      \
		CHECK_ALIGN(a, sizeof(T));                                          \
		SRC = __atomic_exchange_n((T *)PTR(a), (T)SRC, __ATOMIC_SEQ_CST);   \
		vmbreak;                                                            \
	}                                                                           \
	vmcase(ATOMIC##BITS##_CMPXCHG) {                                            \
		uint64_t a = DST + (uint64_t)(int64_t)ip->off;                      \
		T expected = (T)reg[0];                                             \
		CHECK_MEM(a, sizeof(T), true);                                      \
		CHECK_ALIGN(a, sizeof(T));                                          \
		__atomic_compare_exchange_n((T *)PTR(a), &expected, (T)SRC, false,  \
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);    \
		reg[0] = expected;                                                  \
		vmbreak;                                                            \
	}
	XCHG(64, uint64_t)
	XCHG(32, uint32_t)
#undef XCHG

	/* ---- legacy packet loads: network byte order; outside the packet the
	 * program ends and returns 0, as in the kernel ---- */
#define LDPKT(NAME, SZ, T, SWAP, BASE)                                              \
	vmcase(NAME##_##SZ) {                                                       \
		int32_t o = (int32_t)((uint32_t)(BASE) + (uint32_t)IMM);            \
		T v;                                                                \
		if (!run->pkt || o < 0 || (uint32_t)o > run->pkt_len ||             \
		    run->pkt_len - (uint32_t)o < sizeof(T))                         \
			return 0;                                                   \
		memcpy(&v, run->pkt + o, sizeof(T));                                \
		reg[0] = SWAP(v);                                                   \
		vmbreak;                                                            \
	}
#define NOSWAP(v) (v)
	LDPKT(LDABS, W, uint32_t, __builtin_bswap32, 0)
	LDPKT(LDABS, H, uint16_t, __builtin_bswap16, 0)
	LDPKT(LDABS, B, uint8_t, NOSWAP, 0)
	LDPKT(LDIND, W, uint32_t, __builtin_bswap32, (uint32_t)SRC)
	LDPKT(LDIND, H, uint16_t, __builtin_bswap16, (uint32_t)SRC)
	LDPKT(LDIND, B, uint8_t, NOSWAP, (uint32_t)SRC)
#undef NOSWAP
#undef LDPKT
	}

	/* ---- the ways a run stops early ---- */
stopped:
	/* a helper (or a program it ran) reported an error */
	return 0;
too_deep:
	vm_fault(run, -EINVAL, PC, "insn %zu: %s: call stack too deep (more than %d frames)",
		 PC, isa_ops[ip->op].mnem, BPFVM_MAX_CALL_FRAMES);
	return 0;
#if VM_CHECKED
mem_fault: {
	char where[64];
	vm_describe_addr(run, fault_addr, reg[10], where, sizeof(where));
	vm_fault(run, -EFAULT, PC, "insn %zu: %s: out-of-bounds %s of %" PRIu64 " bytes at %s",
		 PC, isa_ops[ip->op].mnem, fault_write ? "store" : "load", fault_size, where);
	return 0;
}
misaligned: {
	char where[64];
	vm_describe_addr(run, fault_addr, reg[10], where, sizeof(where));
	vm_fault(run, -EFAULT, PC, "insn %zu: %s: misaligned %" PRIu64 "-byte atomic access at %s",
		 PC, isa_ops[ip->op].mnem, fault_size, where);
	return 0;
}
out_of_budget:
	run->budget = 0; /* budget wrapped below 0 */
	vm_fault(run, -ELOOP, PC, "insn %zu: instruction budget of %" PRIu64 " exhausted",
		 PC, run->budget_total);
	return 0;
#endif

#undef DST
#undef SRC
#undef IMM
#undef PC
#undef COUNT
#undef SYNC_OUT
#undef SYNC_IN
#undef vmdispatch
#undef vmcase
#undef vmbreak
#undef CHECK_MEM
#undef CHECK_ALIGN
#undef PTR
}
