/* The probe's own page-table pages, counted by a BPF program (probe_bpf.c). */
#ifndef PTLAB_PROBE_BPF_H
#define PTLAB_PROBE_BPF_H

/* Starts counting the tables the tasks of cgroup v2 `cgroup_id` construct; NULL, or why not. */
const char *pt_bpf_start(unsigned long long cgroup_id);
/* Page-table pages of those tables still constructed (ctor minus dtor), or -1. */
long pt_bpf_pages(void);
/* Stops counting. */
void pt_bpf_stop(void);


/* Shared with probe_ipi.c: tracefs, tracepoint ids and fields, maps, loading, attaching. */
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
						.off = (o), .imm = (i) })
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD64_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define STX_DW(d, s, o) INSN(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define JNE_REG(d, s, o) INSN(BPF_JMP | BPF_JNE | BPF_X, d, s, o, 0)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_IMM64_LO(d, s, v) INSN(BPF_LD | BPF_DW | BPF_IMM, d, s, 0, (int32_t)(uint32_t)(v))
#define LD_IMM64_HI(v) INSN(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(v) >> 32))

#define STX_W(d, s, o) INSN(BPF_STX | BPF_MEM | BPF_W, d, s, o, 0)
#define XADD_DW(d, s, o) INSN(BPF_STX | BPF_XADD | BPF_DW, d, s, o, 0)
#define LDX(sz, d, s, o) INSN(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define AND64_IMM(d, i) INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)


int pt_find_tracefs(void);
/* Reads a small file whole into `buf` (NUL-terminated); 0, or -1 if it cannot. */
int pt_read_small(const char *path, char *buf, size_t size);
long pt_tp_id(const char *event);
int pt_tp_field(const char *event, const char *name, int *off, int *size);
int pt_map_create(int type, unsigned key, unsigned value, unsigned max, unsigned flags);
int pt_load(struct bpf_insn *prog, unsigned n, int type);
int pt_attach(long id, int prog, const char *kfunc);
extern char pt_why[320];

/*
 * IPI counting (probe_ipi.c): the smp_call_function IPIs the tasks of cgroup `cgroup_id` queue
 * for each CPU, by callback; NULL, or why not.
 */
const char *pt_ipi_start(unsigned long long cgroup_id);
/* Watches CPU `cpu`, where the probe's thread `tid` runs. */
void pt_ipi_watch(int cpu, int tid);
/* 0: nothing to check; 1: the thread must be running at every flush; 2: only the idle task and
 * kernel threads may run on the watched CPU. */
void pt_ipi_phase(int phase);
/* Forgets the blocked phase's switches so far (counting them as interference when `count`);
 * returns how many went to user tasks. */
long pt_ipi_settled(int count);
/* The pid running on the watched CPU now (0: idle), -1 if not watching. */
long pt_ipi_current(void);
/* Appends the counts so far as JSON members to `out`: "ipis":{...}. Returns the length added. */
int pt_ipi_json(char *out, size_t size, int ncpus);
void pt_ipi_stop(void);

#endif
