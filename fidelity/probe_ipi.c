/*
 * The IPIs the probe's own operations send, per receiving CPU and by what they run there.
 *
 * /proc/interrupts counts every interrupt a CPU takes, whoever caused it; on a machine where
 * anything else runs, its TLB and CAL lines move by hundreds a second. So the counting is done
 * where the IPI is decided: csd:csd_queue_cpu fires in smp_call_function_many_cond and
 * __smp_call_single_queue (kernel/smp.c) for each CPU a call function is queued for, in the
 * sender's context, with the callback the target will run. A program on it counts, for the
 * tasks of the probe's cgroup v2, per target CPU: flush_tlb_func (arch/x86/mm/tlb.c: the TLB
 * line's irq_tlb_count, and CAL's irq_call_count for the vector it comes by),
 * tlb_remove_table_smp_sync (mm/mmu_gather.c: CAL only), sched_ttwu_pending (a wakeup queued
 * on the wakelist, the scheduler's, not the page tables'), and any other callback.
 *
 * What the kernel decides depends on what the other CPU runs (should_flush_tlb skips a lazy
 * CPU; a CPU that loaded another mm gets the IPI once and leaves mm_cpumask), so the probe
 * watches the CPU its thread is pinned to, and counts as interference:
 *  - in a busy phase, a TLB flush sent while the thread was not running there
 *    (tlb:tlb_flush with TLB_REMOTE_SEND_IPI, in native_flush_tlb_multi, against the pid that
 *    sched:sched_switch last switched to on that CPU);
 *  - in a blocked phase, a task other than a kernel thread switched to there while the probe's
 *    mm was still loaded (a user task loads its own mm, and leaves the probe's stale in
 *    mm_cpumask without an IPI; tlb:tlb_flush with TLB_FLUSH_ON_TASK_SWITCH on that CPU tells
 *    when switch_mm_irqs_off loaded another mm, and whether the thread's);
 *  - in a busy phase, a TLB flush that queued no flush_tlb_func for the watched CPU although the
 *    thread ran there: in a KVM guest with PV remote TLB flush, kvm_flush_tlb_multi
 *    (arch/x86/kernel/kvm.c) takes a CPU out of the mask when the host has preempted its vCPU,
 *    which then flushes at its next VM entry, without an IPI.
 * A replay with interference is not a measurement of the model's CPU states, and is repeated.
 * What stays unseen: a PV skip of a halted vCPU that the host preempted in its halt-polling
 * window (the mask passed to kvm_flush_tlb_multi needs a kprobe, which not every kernel has).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe_bpf.h"

#define MAX_CPUS 64
/* slots of the array map after the per-CPU counts (cpu * KINDS + kind) */
enum { KINDS = 4, K_FLUSH = 0, K_SYNC = 1, K_OTHER = 2, K_WAKE = 3 };
enum {
	S_PHASE = MAX_CPUS * KINDS,
	S_TID,
	S_WATCH,
	S_INTERFERED,
	S_EXPECT,
	S_QUEUED,
	S_CURRENT,
	S_LOADED,
	SLOTS
};

static int slots_fd = -1, pids_fd = -1;
static int links[3] = { -1, -1, -1 };
static long interfered_user; /* blocked-phase switches to tasks that are not kernel threads */

/* A program with jumps to labels, resolved at the end. */
struct prog {
	struct bpf_insn i[160];
	int label_of[160]; /* -1: no jump; else the label the jump goes to */
	int at[16];
	int n;
};

static void op(struct prog *p, struct bpf_insn x)
{
	p->label_of[p->n] = -1;
	p->i[p->n++] = x;
}

static void jump(struct prog *p, struct bpf_insn x, int label)
{
	p->label_of[p->n] = label;
	p->i[p->n++] = x;
}

static void ld64(struct prog *p, int reg, int src, uint64_t v)
{
	op(p, LD_IMM64_LO(reg, src, v));
	op(p, LD_IMM64_HI(v));
}

static int load_prog(struct prog *p, int type)
{
	for (int k = 0; k < p->n; k++)
		if (p->label_of[k] >= 0)
			p->i[k].off = (short)(p->at[p->label_of[k]] - k - 1);
	return pt_load(p->i, (unsigned)p->n, type);
}

#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JEQ_REG(d, s, o) INSN(BPF_JMP | BPF_JEQ | BPF_X, d, s, o, 0)
#define JGE_IMM(d, i, o) INSN(BPF_JMP | BPF_JGE | BPF_K, d, 0, o, i)
#define JA(o) INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define LSH64_IMM(d, i) INSN(BPF_ALU64 | BPF_LSH | BPF_K, d, 0, 0, i)
#define ADD64_REG(d, s) INSN(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define AND64_REG(d, s) INSN(BPF_ALU64 | BPF_AND | BPF_X, d, s, 0, 0)
#define XOR64_IMM(d, i) INSN(BPF_ALU64 | BPF_XOR | BPF_K, d, 0, 0, i)
#define OUT 0

/* r0 = &slots[reg or constant] (jumps to OUT when absent); clobbers r1-r5 */
static void slot_reg(struct prog *p, int reg)
{
	op(p, STX_W(10, reg, -4));
	ld64(p, 1, BPF_PSEUDO_MAP_FD, (uint64_t)slots_fd);
	op(p, MOV64_REG(2, 10));
	op(p, ADD64_IMM(2, -4));
	op(p, CALL(BPF_FUNC_map_lookup_elem));
	jump(p, JEQ_IMM(0, 0, 0), OUT);
}

static void slot_k(struct prog *p, int k)
{
	op(p, MOV64_IMM(1, k));
	op(p, STX_W(10, 1, -4));
	ld64(p, 1, BPF_PSEUDO_MAP_FD, (uint64_t)slots_fd);
	op(p, MOV64_REG(2, 10));
	op(p, ADD64_IMM(2, -4));
	op(p, CALL(BPF_FUNC_map_lookup_elem));
	jump(p, JEQ_IMM(0, 0, 0), OUT);
}

static void add_one(struct prog *p)
{
	op(p, MOV64_IMM(1, 1));
	op(p, XADD_DW(0, 1, 0));
}

/* only the probe's cgroup: jumps to OUT otherwise */
static void own_cgroup(struct prog *p, unsigned long long cg)
{
	op(p, CALL(BPF_FUNC_get_current_cgroup_id));
	ld64(p, 1, 0, cg);
	jump(p, JNE_REG(0, 1, 0), OUT);
}

static void out(struct prog *p)
{
	p->at[OUT] = p->n;
	op(p, MOV64_IMM(0, 0));
	op(p, EXIT());
}

static uint64_t ksym(const char *name)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], sym[256], type;
	unsigned long long a;
	uint64_t found = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3 && !strcmp(sym, name)) {
			found = a;
			break;
		}
	}
	fclose(f);
	return found;
}

static long read_slot(int k)
{
	union bpf_attr a;
	uint32_t key = (uint32_t)k;
	uint64_t v = 0;
	memset(&a, 0, sizeof(a));
	a.map_fd = (unsigned)slots_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&v;
	if (slots_fd < 0 || syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)))
		return -1;
	return (long)v;
}

static void write_slot(int k, uint64_t v)
{
	union bpf_attr a;
	uint32_t key = (uint32_t)k;
	memset(&a, 0, sizeof(a));
	a.map_fd = (unsigned)slots_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&v;
	a.flags = BPF_ANY;
	if (slots_fd >= 0)
		syscall(__NR_bpf, BPF_MAP_UPDATE_ELEM, &a, sizeof(a));
}

const char *pt_ipi_start(unsigned long long cg)
{
	static char why[400];
	int cpu_off, cpu_size, func_off, func_size, next_off, next_size, reason_off, reason_size;
	if (pt_find_tracefs())
		return "no tracefs (and it cannot be mounted)";
	long queue_id = pt_tp_id("csd/csd_queue_cpu"), switch_id = pt_tp_id("sched/sched_switch"),
	     flush_id = pt_tp_id("tlb/tlb_flush");
	if (queue_id < 0)
		return "no csd:csd_queue_cpu tracepoint (6.6+)";
	if (switch_id < 0 || flush_id < 0 ||
	    pt_tp_field("csd/csd_queue_cpu", "cpu", &cpu_off, &cpu_size) ||
	    pt_tp_field("csd/csd_queue_cpu", "func", &func_off, &func_size) ||
	    pt_tp_field("sched/sched_switch", "next_pid", &next_off, &next_size) ||
	    pt_tp_field("tlb/tlb_flush", "reason", &reason_off, &reason_size))
		return "the csd, sched_switch or tlb_flush tracepoints are not as expected";
	uint64_t flush = ksym("flush_tlb_func"), sync = ksym("tlb_remove_table_smp_sync"),
		 wake = ksym("sched_ttwu_pending");
	if (!flush || !sync)
		return "/proc/kallsyms shows no flush_tlb_func and tlb_remove_table_smp_sync (hidden?)";
	slots_fd = pt_map_create(BPF_MAP_TYPE_ARRAY, 4, 8, SLOTS, 0);
	pids_fd = pt_map_create(BPF_MAP_TYPE_HASH, 4, 8, 4096, 0);
	if (slots_fd < 0 || pids_fd < 0) {
		pt_ipi_stop();
		return "cannot make a BPF map";
	}
	write_slot(S_WATCH, (uint64_t)-1);
	struct prog q = { .n = 0 }, sw = { .n = 0 }, fl = { .n = 0 };

	/* csd_queue_cpu: slots[cpu * KINDS + kind] += 1 for the probe's cgroup */
	enum { STORE = 1 };
	op(&q, MOV64_REG(6, 1));
	own_cgroup(&q, cg);
	op(&q, LDX(BPF_W, 7, 6, cpu_off));
	jump(&q, JGE_IMM(7, MAX_CPUS, 0), OUT);
	op(&q, LDX(BPF_DW, 8, 6, func_off));
	op(&q, MOV64_IMM(9, K_FLUSH));
	ld64(&q, 1, 0, flush);
	jump(&q, JEQ_REG(8, 1, 0), STORE);
	op(&q, MOV64_IMM(9, K_SYNC));
	ld64(&q, 1, 0, sync);
	jump(&q, JEQ_REG(8, 1, 0), STORE);
	op(&q, MOV64_IMM(9, K_WAKE));
	ld64(&q, 1, 0, wake ? wake : 1);
	jump(&q, JEQ_REG(8, 1, 0), STORE);
	op(&q, MOV64_IMM(9, K_OTHER));
	q.at[STORE] = q.n;
	op(&q, MOV64_REG(8, 7));
	op(&q, LSH64_IMM(8, 2));
	op(&q, ADD64_REG(8, 9));
	slot_reg(&q, 8);
	add_one(&q);
	/* a flush_tlb_func for the watched CPU in a busy phase: the flush reached it */
	jump(&q, JNE_IMM(9, K_FLUSH, 0), OUT);
	slot_k(&q, S_WATCH);
	op(&q, LDX(BPF_DW, 1, 0, 0));
	jump(&q, JNE_REG(7, 1, 0), OUT);
	slot_k(&q, S_PHASE);
	op(&q, LDX(BPF_DW, 1, 0, 0));
	jump(&q, JNE_IMM(1, 1, 0), OUT);
	slot_k(&q, S_QUEUED);
	add_one(&q);
	out(&q);

	/* sched_switch: on the watched CPU, slots[S_CURRENT] = next_pid; in a blocked phase, every
	 * task but the idle task goes into pids */
	op(&sw, MOV64_REG(6, 1));
	op(&sw, CALL(BPF_FUNC_get_smp_processor_id));
	op(&sw, MOV64_REG(7, 0));
	slot_k(&sw, S_WATCH);
	op(&sw, LDX(BPF_DW, 1, 0, 0));
	jump(&sw, JNE_REG(7, 1, 0), OUT);
	op(&sw, LDX(BPF_W, 8, 6, next_off));
	slot_k(&sw, S_CURRENT);
	op(&sw, STX_DW(0, 8, 0));
	slot_k(&sw, S_PHASE);
	op(&sw, LDX(BPF_DW, 1, 0, 0));
	jump(&sw, JNE_IMM(1, 2, 0), OUT);
	jump(&sw, JEQ_IMM(8, 0, 0), OUT);
	slot_k(&sw, S_LOADED);
	op(&sw, LDX(BPF_DW, 1, 0, 0));
	jump(&sw, JEQ_IMM(1, 0, 0), OUT);
	op(&sw, STX_W(10, 8, -4));
	op(&sw, MOV64_IMM(1, 1));
	op(&sw, STX_DW(10, 1, -16));
	ld64(&sw, 1, BPF_PSEUDO_MAP_FD, (uint64_t)pids_fd);
	op(&sw, MOV64_REG(2, 10));
	op(&sw, ADD64_IMM(2, -4));
	op(&sw, MOV64_REG(3, 10));
	op(&sw, ADD64_IMM(3, -16));
	op(&sw, MOV64_IMM(4, BPF_ANY));
	op(&sw, CALL(BPF_FUNC_map_update_elem));
	out(&sw);

	/* tlb_flush TLB_REMOTE_SEND_IPI (4) from the probe in a busy phase: the thread must be the
	 * task running on the watched CPU (then a flush_tlb_func must be queued for it) */
	enum { RUNNING = 1, SWITCH = 2 };
	op(&fl, MOV64_REG(6, 1));
	op(&fl, LDX(BPF_W, 1, 6, reason_off));
	jump(&fl, JEQ_IMM(1, 0, 0), SWITCH);
	jump(&fl, JNE_IMM(1, 4, 0), OUT);
	own_cgroup(&fl, cg);
	slot_k(&fl, S_PHASE);
	op(&fl, LDX(BPF_DW, 1, 0, 0));
	jump(&fl, JNE_IMM(1, 1, 0), OUT);
	slot_k(&fl, S_TID);
	op(&fl, LDX(BPF_DW, 8, 0, 0));
	slot_k(&fl, S_CURRENT);
	op(&fl, LDX(BPF_DW, 9, 0, 0));
	jump(&fl, JEQ_REG(9, 8, 0), RUNNING);
	slot_k(&fl, S_INTERFERED);
	add_one(&fl);
	jump(&fl, JA(0), OUT);
	fl.at[RUNNING] = fl.n;
	slot_k(&fl, S_EXPECT);
	add_one(&fl);
	jump(&fl, JA(0), OUT);
	/* TLB_FLUSH_ON_TASK_SWITCH (0) on the watched CPU: switch_mm_irqs_off loaded an mm, the
	 * probe's if the thread is the task switched to */
	fl.at[SWITCH] = fl.n;
	op(&fl, CALL(BPF_FUNC_get_smp_processor_id));
	op(&fl, MOV64_REG(7, 0));
	slot_k(&fl, S_WATCH);
	op(&fl, LDX(BPF_DW, 1, 0, 0));
	jump(&fl, JNE_REG(7, 1, 0), OUT);
	slot_k(&fl, S_TID);
	op(&fl, LDX(BPF_DW, 8, 0, 0));
	slot_k(&fl, S_CURRENT);
	op(&fl, LDX(BPF_DW, 9, 0, 0));
	op(&fl, MOV64_IMM(7, 0));
	jump(&fl, JNE_REG(9, 8, 0), 3);
	op(&fl, MOV64_IMM(7, 1));
	fl.at[3] = fl.n;
	slot_k(&fl, S_LOADED);
	op(&fl, STX_DW(0, 7, 0));
	out(&fl);

	int qp = load_prog(&q, BPF_PROG_TYPE_TRACEPOINT);
	int sp = qp < 0 ? -1 : load_prog(&sw, BPF_PROG_TYPE_TRACEPOINT);
	int fp = sp < 0 ? -1 : load_prog(&fl, BPF_PROG_TYPE_TRACEPOINT);
	if (fp < 0) {
		snprintf(why, sizeof(why), "%s", pt_why);
		goto fail;
	}
	/* the watchers first: no counted IPI may go unchecked */
	links[0] = pt_attach(switch_id, sp, NULL);
	links[1] = links[0] < 0 ? -1 : pt_attach(flush_id, fp, NULL);
	links[2] = links[1] < 0 ? -1 : pt_attach(queue_id, qp, NULL);
	snprintf(why, sizeof(why), "%s", pt_why);
	for (int *fd = (int[]){ qp, sp, fp }, k = 0; k < 3; k++)
		if (fd[k] >= 0)
			close(fd[k]);
	if (links[2] < 0) {
		pt_ipi_stop();
		return why;
	}
	return NULL;
fail:
	for (int *fd = (int[]){ qp, sp, fp }, k = 0; k < 3; k++)
		if (fd[k] >= 0)
			close(fd[k]);
	pt_ipi_stop();
	for (char *c = why; *c; c++)
		if (*c == '"' || *c == '\\' || *c == '\n')
			*c = ' ';
	return why;
}

void pt_ipi_watch(int cpu, int tid)
{
	write_slot(S_TID, (uint64_t)tid);
	write_slot(S_CURRENT, (uint64_t)tid);
	write_slot(S_LOADED, 1);
	write_slot(S_WATCH, (uint64_t)cpu);
}

void pt_ipi_phase(int phase)
{
	write_slot(S_PHASE, (uint64_t)phase);
}

long pt_ipi_current(void)
{
	return read_slot(S_WATCH) < 0 || read_slot(S_WATCH) == (long)(uint64_t)-1 ? -1
										    : read_slot(S_CURRENT);
}

/* PF_KTHREAD (include/linux/sched.h) in the flags of /proc/PID/stat (field 9) */
static int kernel_thread(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0; /* gone: it cannot be told apart, so it counts */
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long flags = 0;
	char state;
	int f[5];
	if (!p || sscanf(p + 1, " %c %d %d %d %d %d %lu", &state, &f[0], &f[1], &f[2], &f[3], &f[4],
			 &flags) != 7)
		return 0;
	return (flags & 0x00200000) != 0;
}

/*
 * The blocked phases' switches so far: the tasks other than kernel threads (and the probe's
 * thread, which a switch can resume before it blocks), counted as interference when `count`.
 * Returns how many there were; the record starts afresh.
 */
static long classify_pids(int count)
{
	long users = 0;
	uint32_t key, next;
	union bpf_attr a;
	for (;;) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (unsigned)pids_fd;
		a.key = 0; /* the first key: every key is deleted after it is seen */
		a.next_key = (uint64_t)(uintptr_t)&next;
		if (syscall(__NR_bpf, BPF_MAP_GET_NEXT_KEY, &a, sizeof(a)))
			break;
		key = next;
		if ((long)key != read_slot(S_TID) && !kernel_thread((int)key)) {
			users++;
			if (getenv("PTLAB_PROBE_DEBUG")) {
				char path[64], comm[64] = "?";
				snprintf(path, sizeof(path), "/proc/%u/comm", key);
				int fd = open(path, O_RDONLY);
				ssize_t n = fd < 0 ? -1 : read(fd, comm, sizeof(comm) - 1);
				if (fd >= 0)
					close(fd);
				comm[n > 0 ? n - 1 : 1] = 0;
				fprintf(stderr, "probe: pid %u (%s) ran on the watched CPU\n", key, comm);
			}
		}
		memset(&a, 0, sizeof(a));
		a.map_fd = (unsigned)pids_fd;
		a.key = (uint64_t)(uintptr_t)&key;
		syscall(__NR_bpf, BPF_MAP_DELETE_ELEM, &a, sizeof(a));
	}
	if (count)
		interfered_user += users;
	return users;
}

long pt_ipi_settled(int count)
{
	return slots_fd < 0 ? 0 : classify_pids(count);
}

/* One /proc/interrupts line (" TLB:  1  2  TLB shootdowns") as a JSON array. */
static int raw_line(char *out, size_t size, const char *name, int ncpus)
{
	static char buf[1 << 16];
	int fd = open("/proc/interrupts", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *p = NULL;
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *t = l;
		while (*t == ' ')
			t++;
		if (!strncmp(t, name, strlen(name)) && t[strlen(name)] == ':') {
			p = t + strlen(name) + 1;
			break;
		}
	}
	int o = snprintf(out, size, "\"%s\":[", name);
	for (int c = 0; c < ncpus; c++) {
		long v = p ? strtol(p, &p, 10) : -1;
		o += snprintf(out + o, size - (size_t)o, "%s%ld", c ? "," : "", v);
	}
	o += snprintf(out + o, size - (size_t)o, "]");
	return o;
}

int pt_ipi_json(char *out, size_t size, int ncpus)
{
	if (slots_fd < 0)
		return 0;
	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	classify_pids(1);
	static const char *names[KINDS] = { "flush", "sync", "other", "wake" };
	int o = snprintf(out, size, ",\"ipis\":{");
	for (int k = 0; k < KINDS; k++) {
		o += snprintf(out + o, size - (size_t)o, "\"%s\":[", names[k]);
		for (int c = 0; c < ncpus; c++)
			o += snprintf(out + o, size - (size_t)o, "%s%ld", c ? "," : "",
				      read_slot(c * KINDS + k));
		o += snprintf(out + o, size - (size_t)o, "],");
	}
	o += snprintf(out + o, size - (size_t)o, "\"interfered\":%ld,\"pvskip\":%ld,\"raw\":{",
		      read_slot(S_INTERFERED) + interfered_user,
		      read_slot(S_EXPECT) - read_slot(S_QUEUED));
	o += raw_line(out + o, size - (size_t)o, "TLB", ncpus);
	o += snprintf(out + o, size - (size_t)o, ",");
	o += raw_line(out + o, size - (size_t)o, "CAL", ncpus);
	o += snprintf(out + o, size - (size_t)o, "}}");
	return o;
}

void pt_ipi_stop(void)
{
	for (int k = 0; k < 3; k++) {
		if (links[k] >= 0)
			close(links[k]);
		links[k] = -1;
	}
	if (slots_fd >= 0)
		close(slots_fd);
	if (pids_fd >= 0)
		close(pids_fd);
	slots_fd = pids_fd = -1;
}
