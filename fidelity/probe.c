/*
 * ptlab host probe: carries out scenario operations in real process memory and reports what the
 * running kernel says (VmPTE from /proc/PID/status, nr_page_table_pages from /proc/vmstat after
 * /proc/sys/vm/stat_refresh folds the per-CPU deltas, or only the probe's own share of it: see
 * `isolate`).
 *
 * The probe and its children run on one CPU (the first it may use): an exiting child then hands
 * the CPU straight to the probe, which drops the child's mm (and frees its pgd) at that switch
 * instead of leaving it as some idle CPU's lazy active_mm.
 *
 * Commands, one per line on stdin, or one per argument (numbers in decimal or 0x hex):
 *   map ADDR SIZE          mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_FIXED_NOREPLACE),
 *                          then MADV_NOHUGEPAGE (no commit charge, so 64G fits)
 *   file I SIZE [HUGE]     a memfd (MFD_HUGETLB with HUGE, the huge page size) filled in full
 *   mapx ADDR SIZE shared|private FILE|-1 OFFSET none|read|write HUGE fixed|any
 *                          mmap of shared anonymous memory or of file I, in hugetlb pages of
 *                          HUGE bytes (0: none); `any`: with no address, where the kernel's
 *                          get_unmapped_area must choose ADDR
 *   mremap, mprotect, advise, touchr: mremap(2), mprotect(2), madvise(2), read faults
 *   touch ADDR SIZE STEP   write one byte at ADDR, ADDR+STEP, ... below ADDR+SIZE
 *   unmap ADDR SIZE        munmap
 *   dontneed ADDR SIZE     madvise(MADV_DONTNEED)
 *   fork NAME              fork a child that waits until `exit NAME` (the reply comes once the
 *                          child runs, so the code it runs has been faulted in)
 *   exit NAME              let the child NAME exit and reap it
 *   in NAME OP ...         the child NAME carries out the memory operation OP (map ... dontneed)
 *   forkbase               what a child forked now costs: its VmPTE and the page-table pages
 *                          its fork and its exit move (what fork copies of this process alone)
 *   isolate                count the probe's own page-table pages from now on, not the system's:
 *                          it moves into a cgroup v2 of its own and counts the tables that
 *                          cgroup's tasks construct by BPF (probe_bpf.c), or else reads that
 *                          cgroup's memory.stat `pagetables`; the reply says which ("bpf",
 *                          "memcg", or "system" with why)
 *   measure LABEL          settle, then one JSON line: self VmPTE, children's VmPTE, the
 *                          page-table pages (`nrpt`), and `drift`: how far they moved in a
 *                          control window right after, with no command running
 *   facts                  the kernel release, the CPU flags la57 and pti, online CPUs, and
 *                          how it settles (membarrier, rcu_barrier or sleep)
 *   hugepages [N]          the default hugetlb pool (/proc/sys/vm/nr_hugepages), set to N first
 *   ipicount               count the IPIs the probe's cgroup queues, per CPU and callback, and
 *                          whatever makes a count not the model's (probe_ipi.c); `measure` then
 *                          carries "ipis". Needs `isolate`'s cgroup. Reply: counting, why
 *   thread CPU busy|block  the probe's one thread besides its main, pinned to CPU: spinning
 *                          there, or blocked (its CPU idle, the mm lazily loaded)
 *   quit
 * With PTLAB_PROBE_NORANDOM in its environment the probe runs with ASLR off (as `setarch -R`);
 * built with `cc -static`, it is then a process as execve of a small static binary leaves it.
 * The operations (map ... exit) reply nothing; a failure is reported, as {"error": ...}, in
 * place of the reply of the next other command. Every reply is one JSON line; several commands
 * may be written at once. The probe allocates
 * nothing after start-up, so its own page tables change only through the commands.
 *
 * Settling is bounded: table frees go through RCU (MMU_GATHER_RCU_TABLE_FREE), so after a
 * command that can free tables the probe waits for the RCU callbacks queued so far (two grace
 * periods by membarrier GLOBAL, which is synchronize_rcu; where that is refused, rcu_barrier
 * through /sys/module/rcutree/parameters/do_rcu_barrier; else a sleep) and reads once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#include "probe_bpf.h"

#ifndef MEMBARRIER_CMD_GLOBAL
#define MEMBARRIER_CMD_GLOBAL 1
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define MAX_CHILDREN 64

static char out[65536];
static char line[4096];
static char fbuf[16384];

struct child {
	char name[64];
	pid_t pid;
	int fd;	 /* write end of the pipe the child reads its commands from */
	int ack; /* read end of the pipe it answers on */
};
static struct child children[MAX_CHILDREN];

/* tmpfs files of the workload (memfd_create), by the index the driver gives them */
#define MAX_FILES 16
static int files[MAX_FILES];

static void emit(const char *s)
{
	size_t n = strlen(s), off = 0;
	while (off < n) {
		ssize_t w = write(1, s + off, n - off);
		if (w <= 0)
			_exit(3);
		off += (size_t)w;
	}
}

static long read_field(const char *path, const char *key)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, fbuf, sizeof(fbuf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	fbuf[n] = 0;
	size_t kl = strlen(key);
	for (char *p = fbuf; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, kl))
			return strtol(p + kl, NULL, 10);
	}
	return -1;
}

static long vmpte_of(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return read_field(path, "VmPTE:");
}

static int refresh_ok = 1;
static char cgroup_dir[700]; /* the probe's own cgroup v2, once `cgroup` made it */
static int scratch_fd = -1;   /* a memfd written and truncated to make memcg flush its stats */

static long nr_page_table_pages(void)
{
	if (refresh_ok) {
		int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
		if (fd < 0 || write(fd, "1", 1) != 1)
			refresh_ok = 0;
		if (fd >= 0)
			close(fd);
	}
	if (!refresh_ok)
		return -1;
	return read_field("/proc/vmstat", "nr_page_table_pages ");
}

/*
 * The page-table pages charged to the probe's cgroup. memory.stat flushes the per-CPU memcg
 * counters only once more than MEMCG_CHARGE_BATCH (64) updates per online CPU are pending
 * (mm/memcontrol.c memcg_vmstats_needs_flush, 6.8+), else every 2 s: writing and truncating
 * 64 pages per CPU of a memfd (page cache, no page tables) makes enough updates first.
 */
static long cgroup_pagetables(void)
{
	static char chunk[4096];
	char path[720];
	if (scratch_fd >= 0) {
		long n = 64 * sysconf(_SC_NPROCESSORS_ONLN) + 64;
		for (long i = 0; i < n; i++)
			if (write(scratch_fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
				break;
		if (ftruncate(scratch_fd, 0) || lseek(scratch_fd, 0, SEEK_SET) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/memory.stat", cgroup_dir);
	long b = read_field(path, "pagetables ");
	return b < 0 ? -1 : b / sysconf(_SC_PAGESIZE);
}

/* What `measure` counts: the system's nr_page_table_pages, or the probe's own tables. */
static enum { COUNT_SYSTEM, COUNT_BPF, COUNT_MEMCG } counting;

static long page_table_pages(void)
{
	switch (counting) {
	case COUNT_BPF:
		return pt_bpf_pages();
	case COUNT_MEMCG:
		return cgroup_pagetables();
	default:
		return nr_page_table_pages();
	}
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int membarrier_ok = -1;
static int rcu_barrier_ok = -1;

/* membarrier(MEMBARRIER_CMD_GLOBAL) is synchronize_rcu() on SMP (kernel/sched/membarrier.c). */
static int membarrier_global(void)
{
	if (membarrier_ok != 0)
		membarrier_ok = sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
				syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0;
	return membarrier_ok;
}

/* rcu_barrier() through its sysfs trigger (kernel/rcu/tree.c do_rcu_barrier, root only). */
static int rcu_barrier(void)
{
	if (rcu_barrier_ok != 0) {
		int fd = open("/sys/module/rcutree/parameters/do_rcu_barrier", O_WRONLY);
		rcu_barrier_ok = fd >= 0 && write(fd, "1", 1) == 1;
		if (fd >= 0)
			close(fd);
	}
	return rcu_barrier_ok;
}

/*
 * Waits until the RCU callbacks queued so far have run. Counting the probe's own tables:
 * rcu_barrier(), which returns once every queued callback has run (under load a callback can run
 * well after its grace period). System-wide: two grace periods (the first ends the one the frees
 * wait for, the second gives their callbacks time to run; about 25 ms). Where
 * membarrier GLOBAL is refused (nohz_full, whose CPUs offload callbacks and may keep lazy ones
 * for seconds, or one CPU), rcu_barrier, which also flushes lazy callbacks; else a sleep.
 * `control`: the control window, one grace period long.
 */
static void rcu_settle(int control)
{
	/* own counting is exact: wait for the callbacks themselves, not for time to pass */
	if (!control && counting != COUNT_SYSTEM && rcu_barrier())
		return;
	if (membarrier_global()) {
		if (!control)
			membarrier_global();
		return;
	}
	if (!rcu_barrier())
		sleep_ms(control ? 15 : 50);
}

/* Set by the commands that can free page tables (through RCU): the next measure settles. */
static int frees_pending;

/* The page-table pages once the frees of the commands since the last call have landed. */
static long settled_pages(void)
{
	if (frees_pending) {
		rcu_settle(0);
		frees_pending = 0;
	}
	return page_table_pages();
}

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 0);
}

/* Whether the first "flags" line of /proc/cpuinfo has the flag. */
static int cpu_flag(const char *flag)
{
	static char info[262144];
	int fd = open("/proc/cpuinfo", O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, info, sizeof(info) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	info[n] = 0;
	char *p = strstr(info, "\nflags");
	if (!p)
		return 0;
	char *end = strchr(p + 1, '\n');
	size_t fl = strlen(flag);
	for (char *q = strchr(p, ':'); q && (!end || q < end); q++) {
		if (q[0] == ' ' && !strncmp(q + 1, flag, fl) &&
		    (q[1 + fl] == ' ' || q[1 + fl] == '\n' || q[1 + fl] == 0))
			return 1;
	}
	return 0;
}

static struct child *find_child(const char *name)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid && !strcmp(children[i].name, name))
			return &children[i];
	return NULL;
}

/*
 * Operations (map, touch, unmap, dontneed, fork, exit) reply nothing: a failure is kept and
 * reported by the next command that replies, so a batch of operations costs the reader (whose
 * own page tables are system-wide noise too) one line.
 */
static char failure[512];

static void fail(const char *what, const char *arg)
{
	if (!failure[0])
		snprintf(failure, sizeof(failure), "%s %s: %s", what, arg, strerror(errno));
}

static int memory_op(char **tok, int nt);

/* Reads one line (without its newline) from fd into buf; -1 at end of file. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n < size - 1)
			buf[n++] = c;
	}
	buf[n] = 0;
	return (int)n;
}

/*
 * A forked child: it says it runs, then carries out the memory operations it reads from `cmd`
 * (the probe's `in NAME OP ...`), answering each with a line on `ack` (empty, or the failure),
 * and exits at the end of `cmd`.
 */
static void child_loop(int cmd, int ack)
{
	char buf[512], *tok[12];
	failure[0] = 0;
	if (write(ack, "r", 1) != 1)
		_exit(1);
	while (read_line(cmd, buf, sizeof(buf)) > 0) {
		int nt = 0;
		for (char *p = strtok(buf, " \t"); p && nt < 12; p = strtok(NULL, " \t"))
			tok[nt++] = p;
		if (nt && !memory_op(tok, nt) && !failure[0])
			snprintf(failure, sizeof(failure), "bad command %s in a child", tok[0]);
		size_t l = strlen(failure);
		failure[l] = '\n';
		if (write(ack, failure, l + 1) != (ssize_t)(l + 1))
			_exit(1);
		failure[0] = 0;
	}
	_exit(0);
}

/* Forks a child (child_loop), returning once it runs; -1 if it cannot. */
static pid_t spawn_child(int *wfd, int *rfd)
{
	int cmd[2], ack[2];
	char c;
	if (pipe(cmd))
		return -1;
	if (pipe(ack)) {
		close(cmd[0]);
		close(cmd[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* only the probe holds the other children's pipes, so each sees its end when told */
		for (int i = 0; i < MAX_CHILDREN; i++)
			if (children[i].pid) {
				close(children[i].fd);
				close(children[i].ack);
			}
		close(cmd[1]);
		close(ack[0]);
		child_loop(cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	if (pid > 0)
		while (read(ack[0], &c, 1) < 0 && errno == EINTR)
			;
	*wfd = cmd[1];
	*rfd = ack[0];
	return pid;
}

/* Ends a child (an empty line, then the end of its command pipe) and reaps it. */
static void reap(pid_t pid, int fd, int ack)
{
	if (write(fd, "\n", 1) != 1) {
		/* gone already */
	}
	close(fd);
	close(ack);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void leave_own_cgroup(void);


static char cgroup_root[512]; /* the cgroup2 mount the probe's cgroup was made under */

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

static int file_has_word(const char *path, const char *word)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, fbuf, sizeof(fbuf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	fbuf[n] = 0;
	size_t wl = strlen(word);
	for (char *p = strstr(fbuf, word); p; p = strstr(p + 1, word))
		if ((p == fbuf || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || !p[wl]))
			return 1;
	return 0;
}

/*
 * Makes a cgroup v2 of the probe's own (under the first cgroup2 mount, preferring one that
 * delegates the memory controller) and moves there; NULL, or why it cannot. `memcg`: whether
 * that cgroup's memory.stat has a page-table figure.
 */
static const char *join_own_cgroup(int *memcg)
{
	static char mi[65536];
	char path[700], mount[512] = "";
	*memcg = 0;
	int fd = open("/proc/self/mountinfo", O_RDONLY);
	if (fd < 0)
		return "cannot read /proc/self/mountinfo";
	ssize_t n = read(fd, mi, sizeof(mi) - 1);
	close(fd);
	mi[n > 0 ? n : 0] = 0;
	for (char *l = mi; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPEROPTS */
		char root[512], mp[512], fstype[64];
		char *dash = strstr(l, " - ");
		if (!dash || sscanf(l, "%*s %*s %*s %511s %511s", root, mp) != 2 ||
		    sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		if (strcmp(fstype, "cgroup2") || strcmp(root, "/"))
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mp);
		int has_memory = file_has_word(path, "memory");
		if (!mount[0] || (has_memory && !*memcg)) {
			snprintf(mount, sizeof(mount), "%s", mp);
			*memcg = has_memory;
		}
	}
	if (!mount[0])
		return "no cgroup v2 mount";
	snprintf(cgroup_root, sizeof(cgroup_root), "%s", mount);
	snprintf(path, sizeof(path), "%s/ptlab-probe-%d", mount, (int)getpid());
	if (mkdir(path, 0755) && errno != EEXIST)
		return "cannot make a cgroup v2 (not root?)";
	char procs[720], pid[32];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write_str(procs, pid)) {
		rmdir(path);
		return "cannot move into a cgroup v2 of its own";
	}
	snprintf(cgroup_dir, sizeof(cgroup_dir), "%s", path);
	char stat[720];
	snprintf(stat, sizeof(stat), "%s/memory.stat", path);
	if (*memcg && read_field(stat, "pagetables ") < 0)
		*memcg = 0;
	return NULL;
}

/* Whether counting sees a PTE table come and go: one page at an address nothing else maps. */
static const char *self_test(void)
{
	char *a = (char *)0x300000000000UL; /* 48 TiB: its own PUD, PMD and PTE tables */
	long p0 = page_table_pages();
	void *r = mmap(a, 1 << 21, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (r != a)
		return "the self-test cannot map its page";
	*(volatile char *)a = 1;
	long p1 = page_table_pages();
	munmap(a, 1 << 21);
	frees_pending = 1;
	long p2 = settled_pages();
	if (p1 <= p0)
		return "the self-test's page-table pages were not counted";
	if (p2 != p0)
		return "the self-test's tables were not all seen freed";
	return NULL;
}

/*
 * Chooses what `measure` counts: the probe's own tables by BPF, else its cgroup's memory.stat,
 * else the system-wide nr_page_table_pages. Returns why it fell back, or NULL.
 */
static const char *isolate(void)
{
	static char why[700];
	int memcg;
	const char *no_cgroup = join_own_cgroup(&memcg);
	if (no_cgroup)
		return no_cgroup;
	struct stat st;
	const char *no_bpf = stat(cgroup_dir, &st) ? "cannot stat its cgroup"
						    : pt_bpf_start((unsigned long long)st.st_ino);
	if (!no_bpf) {
		counting = COUNT_BPF;
		no_bpf = self_test();
		if (!no_bpf)
			return NULL;
		pt_bpf_stop();
	}
	if (memcg) {
		counting = COUNT_MEMCG;
		scratch_fd = memfd_create("ptlab-flush", 0);
		const char *no_memcg = self_test();
		if (!no_memcg)
			return NULL;
		snprintf(why, sizeof(why), "BPF: %s; memory.stat: %s", no_bpf, no_memcg);
	} else {
		snprintf(why, sizeof(why),
			 "BPF: %s; and no cgroup v2 memory controller (the v1 memory.stat has no "
			 "page-table figure)",
			 no_bpf);
	}
	counting = COUNT_SYSTEM;
	leave_own_cgroup();
	return why;
}

/* Moves back to the mount's root cgroup and removes the probe's own. */
static void leave_own_cgroup(void)
{
	char procs[600], pid[32];
	if (!cgroup_dir[0])
		return;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup_root);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	write_str(procs, pid);
	rmdir(cgroup_dir);
	cgroup_dir[0] = 0;
}

/* PROT_NONE, PROT_READ or PROT_READ | PROT_WRITE, by name. */
static int prot_of(const char *p)
{
	return !strcmp(p, "none") ? PROT_NONE : !strcmp(p, "read") ? PROT_READ : PROT_READ | PROT_WRITE;
}

/* MAP_HUGE_2MB and the like: log2 of the huge page size at MAP_HUGE_SHIFT (26). */
static int huge_flag(unsigned long bytes)
{
	int l = 0;
	while ((1UL << l) < bytes)
		l++;
	return l << 26;
}

/*
 * The memory operations (map, mapx, file, mremap, mprotect, advise, touchr, touch, unmap,
 * dontneed), in the probe or in a child it forked (`in NAME OP ...`): 1 when tok is one (a
 * failure is kept for the next reply), 0 when it is not.
 */
static int memory_op(char **tok, int nt)
{
	const char *cmd = tok[0];
	if (!strcmp(cmd, "map") && nt == 3) {
		unsigned long a = num(tok[1]), s = num(tok[2]);
		void *r = mmap((void *)a, s, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		if (r == MAP_FAILED || (unsigned long)r != a) {
			fail("mmap", tok[1]);
			return 1;
		}
		madvise(r, s, MADV_NOHUGEPAGE);
	} else if (!strcmp(cmd, "file") && (nt == 3 || nt == 4)) {
		/* `file I SIZE [HUGE]`: a tmpfs file written in full, so all its pages are cached; with
		 * HUGE (bytes), a hugetlbfs one (MFD_HUGETLB) whose huge pages fallocate allocates */
		unsigned long i = num(tok[1]), s = num(tok[2]), huge = nt == 4 ? num(tok[3]) : 0;
		int fd = i < MAX_FILES ? (int)syscall(SYS_memfd_create, "ptlab",
						      huge ? MFD_HUGETLB | huge_flag(huge) : 0)
				       : -1;
		if (fd < 0 || ftruncate(fd, (off_t)s)) {
			fail("memfd", tok[1]);
			return 1;
		}
		if (huge) {
			if (fallocate(fd, 0, 0, (off_t)s))
				fail("fallocate", tok[1]);
			files[i] = fd;
			return 1;
		}
		static char blk[65536];
		memset(blk, 1, sizeof(blk));
		for (unsigned long o = 0; o < s; o += sizeof(blk)) {
			size_t n = s - o < sizeof(blk) ? s - o : sizeof(blk);
			if (pwrite(fd, blk, n, (off_t)o) != (ssize_t)n) {
				fail("pwrite", tok[1]);
				break;
			}
		}
		files[i] = fd;
	} else if (!strcmp(cmd, "mapx") && nt == 9) {
		/* `mapx ADDR SIZE shared|private FILE|-1 OFFSET PROT HUGE fixed|any`: shared anonymous
		 * memory (FILE -1, shared) or a mapping of a workload file, PROT none|read|write, in
		 * hugetlb pages of HUGE bytes (0: none); `any`: no address given, the kernel chooses
		 * (get_unmapped_area) and must choose ADDR, the address ptlab chose */
		unsigned long a = num(tok[1]), s = num(tok[2]), huge = num(tok[7]);
		long fi = strtol(tok[4], NULL, 0);
		int shared = !strcmp(tok[3], "shared"), any = !strcmp(tok[8], "any");
		int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_NORESERVE |
			    (any ? 0 : MAP_FIXED_NOREPLACE);
		int fd = -1;
		if (fi < 0)
			flags |= MAP_ANONYMOUS | (huge ? MAP_HUGETLB | huge_flag(huge) : 0);
		else if (fi < MAX_FILES)
			fd = files[fi];
		void *r = mmap(any ? NULL : (void *)a, s, prot_of(tok[6]), flags, fd,
			       fi < 0 ? 0 : (off_t)num(tok[5]));
		if (r == MAP_FAILED) {
			fail("mmap", tok[1]);
			return 1;
		}
		if ((unsigned long)r != a) {
			if (!failure[0])
				snprintf(failure, sizeof(failure),
					 "mmap %s: the kernel chose %p, not %s", tok[2], r, tok[1]);
			return 1;
		}
		if (!huge)
			madvise(r, s, MADV_NOHUGEPAGE);
	} else if (!strcmp(cmd, "mremap") && nt == 5) {
		/* MREMAP_MAYMOVE | MREMAP_FIXED to another address, in place otherwise */
		unsigned long a = num(tok[1]), s = num(tok[2]), na = num(tok[3]), ns = num(tok[4]);
		void *r = na == a ? mremap((void *)a, s, ns, 0)
				  : mremap((void *)a, s, ns, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)na);
		frees_pending = 1;
		if (r == MAP_FAILED || (unsigned long)r != na) {
			fail("mremap", tok[1]);
			return 1;
		}
	} else if (!strcmp(cmd, "mprotect") && nt == 4) {
		if (mprotect((void *)num(tok[1]), num(tok[2]), prot_of(tok[3]))) {
			fail("mprotect", tok[1]);
			return 1;
		}
	} else if (!strcmp(cmd, "advise") && nt == 4) {
		/* MADV_FREE 8, MADV_HUGEPAGE 14, MADV_NOHUGEPAGE 15, MADV_POPULATE_WRITE 23,
		 * MADV_COLLAPSE 25 (include/uapi/asm-generic/mman-common.h) */
		int adv = !strcmp(tok[3], "free") ? 8 : !strcmp(tok[3], "hugepage") ? 14 :
			  !strcmp(tok[3], "nohugepage") ? 15 : !strcmp(tok[3], "populate_write") ? 23 :
			  !strcmp(tok[3], "collapse") ? 25 : -1;
		frees_pending = 1;
		if (adv < 0 || madvise((void *)num(tok[1]), num(tok[2]), adv)) {
			fail("madvise", tok[3]);
			return 1;
		}
	} else if (!strcmp(cmd, "touchr") && nt == 4) {
		unsigned long a = num(tok[1]), s = num(tok[2]), st = num(tok[3]);
		for (unsigned long x = a; x < a + s; x += st)
			(void)*(volatile char *)x;
	} else if (!strcmp(cmd, "touch") && nt == 4) {
		unsigned long a = num(tok[1]), s = num(tok[2]), st = num(tok[3]);
		for (unsigned long x = a; x < a + s; x += st)
			*(volatile char *)x = 1;
	} else if (!strcmp(cmd, "unmap") && nt == 3) {
		frees_pending = 1;
		if (munmap((void *)num(tok[1]), num(tok[2]))) {
			fail("munmap", tok[1]);
			return 1;
		}
	} else if (!strcmp(cmd, "dontneed") && nt == 3) {
		frees_pending = 1; /* PT_RECLAIM frees the PTE tables it empties */
		if (madvise((void *)num(tok[1]), num(tok[2]), MADV_DONTNEED)) {
			fail("madvise", tok[1]);
			return 1;
		}
	} else {
		return 0;
	}
	return 1;
}

/* Buffered stdin: commands often come many at a time. */
static char inbuf[65536];
static size_t in_len, in_pos;
static int argv_mode; /* the commands came as arguments: no stdin */

static int next_line(void)
{
	size_t n = 0;
	for (;;) {
		if (in_pos == in_len) {
			if (argv_mode)
				return n > 0 ? (line[n] = 0, 1) : 0;
			ssize_t r = read(0, inbuf, sizeof(inbuf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return 0;
			in_len = (size_t)r;
			in_pos = 0;
		}
		char c = inbuf[in_pos++];
		if (c == '\n')
			break;
		if (n < sizeof(line) - 1)
			line[n++] = c;
	}
	line[n] = 0;
	return 1;
}

/*
 * The probe's one thread besides its main: pinned to a CPU, spinning there (busy) or blocked in
 * a futex wait (its CPU then runs the idle task, with the probe's mm lazily loaded).
 */
static pthread_t thr;
static int thr_cpu = -1, thr_tid;
static int thr_mode; /* 1 busy, 2 blocked, 3 quit (the futex word) */
static int thr_spinning;

static void *thread_main(void *arg)
{
	(void)arg;
	__atomic_store_n(&thr_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	setpriority(PRIO_PROCESS, (id_t)thr_tid, -20); /* first pick of its CPU, where allowed */
	for (;;) {
		int m = __atomic_load_n(&thr_mode, __ATOMIC_ACQUIRE);
		if (m == 3)
			return NULL;
		if (m == 1) {
			__atomic_store_n(&thr_spinning, 1, __ATOMIC_RELEASE);
			continue;
		}
		__atomic_store_n(&thr_spinning, 0, __ATOMIC_RELEASE);
		syscall(SYS_futex, &thr_mode, FUTEX_WAIT_PRIVATE, m, NULL, NULL, 0);
	}
}

static void thread_mode(int m)
{
	__atomic_store_n(&thr_mode, m, __ATOMIC_RELEASE);
	syscall(SYS_futex, &thr_mode, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* The thread's scheduler state letter from /proc/self/task/TID/stat ('S' blocked). */
static char thread_state(void)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", thr_tid);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * `thread CPU busy|block`. busy: the thread (made on first use, pinned to CPU) spins there, and
 * the reply waits until it does; block: it waits on a futex, and the reply waits until its CPU
 * has switched away from it. Returns an error text or NULL.
 */
static const char *thread_cmd(int cpu, int busy)
{
	if (thr_cpu >= 0 && cpu != thr_cpu)
		return "the probe has one thread besides its main, on one CPU";
	if (thr_cpu < 0) {
		if (!busy)
			return "no thread on that CPU";
		pthread_attr_t at;
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_attr_init(&at);
		pthread_attr_setaffinity_np(&at, sizeof(set), &set);
		thr_mode = 1;
		if (pthread_create(&thr, &at, thread_main, NULL))
			return "pthread_create failed";
		pthread_attr_destroy(&at);
		while (!__atomic_load_n(&thr_spinning, __ATOMIC_ACQUIRE))
			sched_yield();
		thr_cpu = cpu;
		pt_ipi_watch(cpu, thr_tid);
		pt_ipi_phase(1);
		return NULL;
	}
	if (busy) {
		/* nothing checked while it wakes: the wakeup switches to it */
		pt_ipi_phase(0);
		thread_mode(1);
		for (int i = 0; !__atomic_load_n(&thr_spinning, __ATOMIC_ACQUIRE); i++) {
			if (i > 200000)
				return "the thread does not run";
			sched_yield();
		}
		for (int i = 0; pt_ipi_current() >= 0 && pt_ipi_current() != thr_tid; i++) {
			if (i > 2000)
				return "the thread's CPU does not switch to it";
			sleep_ms(1);
		}
		pt_ipi_phase(1);
		return NULL;
	}
	/* from here every task but the idle task and kernel threads on its CPU interferes; where a
	 * user task ran there before the blocked thread's CPU settled (its mm loaded, this one left
	 * stale in mm_cpumask), the thread runs again and blocks again */
	for (int tries = 0;; tries++) {
		pt_ipi_phase(2);
		thread_mode(2);
		for (int i = 0;
		     thread_state() != 'S' || __atomic_load_n(&thr_spinning, __ATOMIC_ACQUIRE) ||
		     (pt_ipi_current() >= 0 && pt_ipi_current() == thr_tid);
		     i++) {
			if (i > 2000)
				return "the thread does not block";
			sleep_ms(1);
		}
		/* whatever was runnable there (the reader of the last reply) runs now: wait until
		 * the CPU idles, then a moment more */
		for (int i = 0; i < 200 && pt_ipi_current() > 0; i++)
			sleep_ms(1);
		sleep_ms(2);
		if (pt_ipi_settled(tries == 20) == 0 || tries == 20)
			return NULL;
		const char *err = thread_cmd(cpu, 1);
		if (err)
			return err;
	}
}

/*
 * Clears mm_cpumask of CPUs the probe ran on before it was pinned: from 6.14 x86 leaves a CPU
 * there until a flush IPI finds the mm not loaded. Two munmaps that free tables reach every
 * CPU in the mask: the first switches a lazy one to init_mm, the second clears it.
 */
static void trim_cpumask(void)
{
	for (int i = 0; i < 2; i++) {
		char *p = mmap((void *)0x600000000000UL, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return;
		*(volatile char *)p = 1;
		munmap(p, 4096);
	}
}

/* Runs on the first CPU it may use, and so do the children it forks. */
static int pin_to_one_cpu(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		return sched_setaffinity(0, sizeof(set), &set) ? -1 : cpu;
	}
	return -1;
}

int main(int argc, char **argv)
{
	char *tok[12];
	signal(SIGPIPE, SIG_IGN);
	/* PTLAB_PROBE_NORANDOM: run as `setarch -R` would, with ASLR off (ADDR_NO_RANDOMIZE takes
	 * effect at execve, so the probe executes itself again) */
	int per = personality(0xffffffff);
	if (getenv("PTLAB_PROBE_NORANDOM") && per >= 0 && !(per & ADDR_NO_RANDOMIZE) &&
	    personality((unsigned long)per | ADDR_NO_RANDOMIZE) >= 0) {
		execv("/proc/self/exe", argv);
		return 4;
	}
	for (int i = 1; i < argc; i++) { /* `ptlab-probe facts` and the like: one command per argument */
		size_t l = strlen(argv[i]);
		if (in_len + l + 1 >= sizeof(inbuf))
			break;
		memcpy(inbuf + in_len, argv[i], l);
		in_len += l;
		inbuf[in_len++] = '\n';
		argv_mode = 1;
	}
	int cpu = pin_to_one_cpu();
	per = personality(0xffffffff);
	snprintf(out, sizeof(out),
		 "{\"ready\":true,\"pid\":%d,\"vmpte\":%ld,\"cpu\":%d,\"norandom\":%s}\n",
		 (int)getpid(), vmpte_of(getpid()), cpu,
		 per >= 0 && (per & ADDR_NO_RANDOMIZE) ? "true" : "false");
	emit(out);
	while (next_line()) {
		int nt = 0;
		for (char *p = strtok(line, " \t"); p && nt < 12; p = strtok(NULL, " \t"))
			tok[nt++] = p;
		if (nt == 0)
			continue;
		const char *cmd = tok[0];
		if (!strcmp(cmd, "quit"))
			break;
		int quiet = !strcmp(cmd, "map") || !strcmp(cmd, "touch") || !strcmp(cmd, "unmap") ||
			    !strcmp(cmd, "dontneed") || !strcmp(cmd, "fork") || !strcmp(cmd, "exit") ||
			    !strcmp(cmd, "file") || !strcmp(cmd, "mapx") || !strcmp(cmd, "touchr") ||
			    !strcmp(cmd, "mprotect") || !strcmp(cmd, "advise") || !strcmp(cmd, "mremap") ||
			    !strcmp(cmd, "in");
		if (!quiet && failure[0]) {
			snprintf(out, sizeof(out), "{\"error\":\"%s\"}\n", failure);
			emit(out);
			failure[0] = 0;
			continue;
		}
		if (memory_op(tok, nt)) {
			continue;
		} else if (!strcmp(cmd, "fork") && nt == 2) {
			int slot = -1;
			for (int i = 0; i < MAX_CHILDREN; i++)
				if (!children[i].pid)
					slot = i;
			if (slot < 0) {
				fail("fork", "too many children");
				continue;
			}
			pid_t pid = spawn_child(&children[slot].fd, &children[slot].ack);
			if (pid < 0) {
				fail("fork", tok[1]);
				continue;
			}
			children[slot].pid = pid;
			snprintf(children[slot].name, sizeof(children[slot].name), "%s", tok[1]);
		} else if (!strcmp(cmd, "exit") && nt == 2) {
			struct child *ch = find_child(tok[1]);
			if (!ch) {
				fail("exit", tok[1]);
				continue;
			}
			frees_pending = 1;
			reap(ch->pid, ch->fd, ch->ack);
			ch->pid = 0;
		} else if (!strcmp(cmd, "in") && nt >= 3) {
			/* `in NAME OP ...`: the child NAME carries out the memory operation OP */
			struct child *ch = find_child(tok[1]);
			char op[512], reply[400];
			size_t o = 0;
			for (int i = 2; i < nt; i++)
				o += (size_t)snprintf(op + o, sizeof(op) - o, i > 2 ? " %s" : "%s", tok[i]);
			snprintf(op + o, sizeof(op) - o, "\n");
			frees_pending = 1;
			if (!ch) {
				fail("in", tok[1]);
				continue;
			}
			if (write(ch->fd, op, strlen(op)) != (ssize_t)strlen(op) ||
			    read_line(ch->ack, reply, sizeof(reply)) < 0) {
				if (!failure[0])
					snprintf(failure, sizeof(failure), "in %s: the child ended", tok[1]);
				continue;
			}
			if (reply[0] && !failure[0])
				snprintf(failure, sizeof(failure), "%s: %s", tok[1], reply);
		} else if (!strcmp(cmd, "forkbase")) {
			int fd, ack;
			long p0 = settled_pages();
			pid_t pid = spawn_child(&fd, &ack);
			if (pid < 0) {
				fail("fork", "forkbase");
				continue;
			}
			long v = vmpte_of(pid);
			long p1 = page_table_pages();
			reap(pid, fd, ack);
			frees_pending = 1;
			long p2 = settled_pages();
			snprintf(out, sizeof(out),
				 "{\"forkbase\":%ld,\"forkPages\":%ld,\"exitPages\":%ld}\n", v,
				 p0 < 0 ? 0 : p1 - p0, p0 < 0 ? 0 : p2 - p1);
			emit(out);
			continue;
		} else if (!strcmp(cmd, "isolate") && nt == 1) {
			const char *why = isolate();
			static const char *names[] = { "system", "bpf", "memcg" };
			snprintf(out, sizeof(out), "{\"counting\":\"%s\",\"why\":\"%s\"}\n",
				 names[counting], why ? why : "");
			emit(out);
			continue;
		} else if (!strcmp(cmd, "hugepages") && nt <= 2) {
			/* `hugepages [N]`: the default hugetlb pool, set to N first (for the tests,
			 * which grow it for a workload and put it back) */
			const char *path = "/proc/sys/vm/nr_hugepages";
			int ok = nt == 1 || !write_str(path, tok[1]);
			int fd = open(path, O_RDONLY);
			ssize_t n = fd < 0 ? -1 : read(fd, fbuf, sizeof(fbuf) - 1);
			if (fd >= 0)
				close(fd);
			fbuf[n > 0 ? n : 0] = 0;
			snprintf(out, sizeof(out), "{\"nr\":%ld,\"written\":%s}\n",
				 n > 0 ? strtol(fbuf, NULL, 10) : -1L, ok ? "true" : "false");
			emit(out);
			continue;
		} else if (!strcmp(cmd, "ipicount") && nt == 1) {
			/* count the IPIs the probe's cgroup queues, per CPU (probe_ipi.c) */
			struct stat st;
			const char *why = !cgroup_dir[0]	  ? "the probe has no cgroup of its own"
					  : stat(cgroup_dir, &st) ? "cannot stat its cgroup"
								  : NULL;
			trim_cpumask();
			if (!why)
				why = pt_ipi_start((unsigned long long)st.st_ino);
			snprintf(out, sizeof(out), "{\"counting\":%s,\"why\":\"%s\"}\n",
				 why ? "false" : "true", why ? why : "");
			emit(out);
			continue;
		} else if (!strcmp(cmd, "thread") && nt == 3) {
			const char *err = thread_cmd((int)num(tok[1]), !strcmp(tok[2], "busy"));
			if (err && !failure[0])
				snprintf(failure, sizeof(failure), "thread %s %s: %s", tok[1], tok[2], err);
			continue;
		} else if (!strcmp(cmd, "facts")) {
			struct utsname u;
			uname(&u);
			rcu_settle(0);
			snprintf(out, sizeof(out),
				 "{\"release\":\"%s\",\"machine\":\"%s\",\"la57\":%s,\"pti\":%s,"
				 "\"cpus\":%ld,\"settle\":\"%s\",\"statRefresh\":%s}\n",
				 u.release, u.machine, cpu_flag("la57") ? "true" : "false",
				 cpu_flag("pti") ? "true" : "false", sysconf(_SC_NPROCESSORS_ONLN),
				 membarrier_ok	? "membarrier"
				 : rcu_barrier_ok ? "rcu_barrier"
						  : "sleep",
				 nr_page_table_pages() >= 0 ? "true" : "false");
			emit(out);
			continue;
		} else if (!strcmp(cmd, "measure") && nt == 2) {
			/* the IPIs first: settling sends some of its own (membarrier, rcu_barrier) */
			static char ipis[8192];
			ipis[0] = 0;
			pt_ipi_json(ipis, sizeof(ipis), (int)sysconf(_SC_NPROCESSORS_ONLN));
			long pages = settled_pages();
			long vm = vmpte_of(getpid());
			size_t o = (size_t)snprintf(out, sizeof(out),
						    "{\"label\":\"%s\",\"vmpte\":%ld,\"children\":{",
						    tok[1], vm);
			int first = 1;
			for (int i = 0; i < MAX_CHILDREN; i++) {
				if (!children[i].pid)
					continue;
				o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\"%s\":%ld",
						      first ? "" : ",", children[i].name,
						      vmpte_of(children[i].pid));
				first = 0;
			}
			/* the control window: nothing of ours running */
			rcu_settle(1);
			long after = page_table_pages();
			snprintf(out + o, sizeof(out) - o, "},\"nrpt\":%ld,\"drift\":%ld%s}\n", pages,
				 pages < 0 || after < 0 ? 0 : after - pages, ipis);
			emit(out);
			continue;
		} else {
			snprintf(out, sizeof(out), "{\"error\":\"bad command %s\"}\n", cmd);
			emit(out);
			continue;
		}
	}
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid)
			reap(children[i].pid, children[i].fd, children[i].ack);
	if (thr_cpu >= 0) {
		thread_mode(3);
		pthread_join(thr, NULL);
	}
	pt_ipi_stop();
	pt_bpf_stop();
	leave_own_cgroup();
	return 0;
}
