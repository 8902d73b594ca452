/*
 * The probe's own page-table pages, as the kernel marks them, whatever else the machine does.
 *
 * Two BPF programs on the page allocator's tracepoints (kmem:mm_page_alloc, kmem:mm_page_free)
 * keep the set of pages that tasks of the probe's cgroup v2 allocate without __GFP_MOVABLE
 * (page tables never are: GFP_PGTABLE_USER / GFP_PGTABLE_KERNEL) and that are not freed yet:
 * the tracepoint fires in free_pages_prepare wherever the free happens, an RCU callback
 * included. Counting then reads /proc/kpageflags for each page of the set: those that carry
 * KPF_PGTABLE are tables whose ctor ran and whose dtor has not (include/linux/mm.h: the ctors
 * set the page type and add to NR_PAGETABLE together, the dtors undo both), that is, the
 * probe's share of nr_page_table_pages.
 *
 * Needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN for kpageflags) and tracefs; mounts tracefs
 * in a mount namespace of the probe's own if it is not mounted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/kernel-page-flags.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe_bpf.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* A tracepoint's id and the offset and size of one of its fields, from tracefs. */
static char tracefs[64];

int pt_find_tracefs(void)
{
	static const char *dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	struct stat st;
	for (int i = 0; i < 2; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/events/kmem", dirs[i]);
		if (!stat(p, &st)) {
			snprintf(tracefs, sizeof(tracefs), "%s", dirs[i]);
			return 0;
		}
	}
	/* not mounted: mount it where only the probe (and its children) see it */
	if (unshare(CLONE_NEWNS) || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("nodev", dirs[0], "tracefs", 0, NULL))
		return -1;
	snprintf(tracefs, sizeof(tracefs), "%s", dirs[0]);
	return 0;
}

int pt_read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* The id of tracepoint `event` ("kmem/mm_page_alloc"; a bare name is of the kmem group). */
long pt_tp_id(const char *event)
{
	char p[256], buf[64];
	snprintf(p, sizeof(p), "%s/events/%s%s/id", tracefs, strchr(event, '/') ? "" : "kmem/", event);
	return pt_read_small(p, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

/* "field:unsigned long pfn;\toffset:8;\tsize:8;": the offset and size of `name`. */
int pt_tp_field(const char *event, const char *name, int *off, int *size)
{
	static char fmt[16384];
	char p[256], key[64];
	snprintf(p, sizeof(p), "%s/events/%s%s/format", tracefs, strchr(event, '/') ? "" : "kmem/",
		 event);
	if (pt_read_small(p, fmt, sizeof(fmt)))
		return -1;
	snprintf(key, sizeof(key), " %s;", name);
	char *f = strstr(fmt, key);
	if (!f || sscanf(f + strlen(key), "\toffset:%d;\tsize:%d;", off, size) != 2)
		return -1;
	return 0;
}

int pt_map_create(int type, unsigned key, unsigned value, unsigned max,
		      unsigned flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key;
	a.value_size = value;
	a.max_entries = max;
	a.map_flags = flags;
	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static int pages_fd = -1, kpageflags_fd = -1;
static int events[2] = { -1, -1 };

static int bpf_size(int bytes)
{
	return bytes == 8 ? BPF_DW : bytes == 4 ? BPF_W : bytes == 2 ? BPF_H : BPF_B;
}

char pt_why[320];
#define why pt_why

int pt_load(struct bpf_insn *prog, unsigned n, int type)
{
	static char log[65536];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = (enum bpf_prog_type)type;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = n;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	log[0] = 0;
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0) {
		const char *last = log;
		for (const char *p = log; *p; p++)
			if (p[0] == '\n' && p[1])
				last = p + 1;
		snprintf(why, sizeof(why), "the kernel refused a BPF program (%s) %.120s",
			 strerror(errno), last);
		for (char *p = why; *p; p++)
			if (*p == '"' || *p == '\\' || *p == '\n')
				*p = ' ';
	}
	return fd;
}

/*
 * Attaches `prog` to tracepoint `id` (it then runs wherever the tracepoint fires); with `kfunc`,
 * to a kprobe on the entry of kernel function `kfunc` (`id` is the kprobe PMU's type).
 */
int pt_attach(long id, int prog, const char *kfunc)
{
	struct perf_event_attr pa;
	memset(&pa, 0, sizeof(pa));
	pa.type = kfunc ? (uint32_t)id : PERF_TYPE_TRACEPOINT;
	pa.size = sizeof(pa);
	pa.config = kfunc ? 0 : (uint64_t)id;
	pa.config1 = kfunc ? (uint64_t)(uintptr_t)kfunc : 0;
	pa.sample_period = 1;
	pa.wakeup_events = 1;
	int fd = (int)syscall(__NR_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 || ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
		snprintf(why, sizeof(why), "cannot attach to %s: %s", kfunc ? kfunc : "a tracepoint",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

const char *pt_bpf_start(unsigned long long cgroup_id)
{
	int pfn_off, pfn_size, order_off, order_size, gfp_off, gfp_size, fpfn_off, fpfn_size;
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY);
	if (kpageflags_fd < 0)
		return "cannot read /proc/kpageflags (not root?)";
	if (pt_find_tracefs())
		return "no tracefs (and it cannot be mounted)";
	long alloc_id = pt_tp_id("mm_page_alloc"), free_id = pt_tp_id("mm_page_free");
	if (alloc_id < 0 || free_id < 0 || pt_tp_field("mm_page_alloc", "pfn", &pfn_off, &pfn_size) ||
	    pt_tp_field("mm_page_alloc", "order", &order_off, &order_size) ||
	    pt_tp_field("mm_page_alloc", "gfp_flags", &gfp_off, &gfp_size) ||
	    pt_tp_field("mm_page_free", "pfn", &fpfn_off, &fpfn_size))
		return "the kmem:mm_page_alloc/mm_page_free tracepoints are not as expected";
	pages_fd = pt_map_create(BPF_MAP_TYPE_HASH, 8, 8, 1 << 20, BPF_F_NO_PREALLOC);
	if (pages_fd < 0) {
		snprintf(why, sizeof(why), "cannot make a BPF map: %s", strerror(errno));
		return why;
	}
	/* mm_page_alloc: a page the probe's cgroup allocates, not movable: pages[pfn] = order */
	struct bpf_insn on_alloc[] = {
		MOV64_REG(6, 1),
		LDX(bpf_size(gfp_size), 2, 6, gfp_off),
		AND64_IMM(2, 0x08), /* ___GFP_MOVABLE */
		JNE_IMM(2, 0, 16), /* out */
		CALL(BPF_FUNC_get_current_cgroup_id),
		LD_IMM64_LO(1, 0, cgroup_id),
		LD_IMM64_HI(cgroup_id),
		JNE_REG(0, 1, 12), /* out */
		LDX(bpf_size(pfn_size), 2, 6, pfn_off),
		STX_DW(10, 2, -8),
		LDX(bpf_size(order_size), 3, 6, order_off),
		STX_DW(10, 3, -16),
		LD_IMM64_LO(1, BPF_PSEUDO_MAP_FD, pages_fd),
		LD_IMM64_HI(0),
		MOV64_REG(2, 10),
		ADD64_IMM(2, -8),
		MOV64_REG(3, 10),
		ADD64_IMM(3, -16),
		MOV64_IMM(4, BPF_ANY),
		CALL(BPF_FUNC_map_update_elem),
		/* out: */
		MOV64_IMM(0, 0),
		EXIT(),
	};
	/* mm_page_free: whoever frees it, the page leaves the set */
	struct bpf_insn on_free[] = {
		LDX(bpf_size(fpfn_size), 2, 1, fpfn_off),
		STX_DW(10, 2, -8),
		LD_IMM64_LO(1, BPF_PSEUDO_MAP_FD, pages_fd),
		LD_IMM64_HI(0),
		MOV64_REG(2, 10),
		ADD64_IMM(2, -8),
		CALL(BPF_FUNC_map_delete_elem),
		MOV64_IMM(0, 0),
		EXIT(),
	};
	int pa = pt_load(on_alloc, sizeof(on_alloc) / sizeof(on_alloc[0]), BPF_PROG_TYPE_TRACEPOINT);
	int pf = pa < 0 ? -1 : pt_load(on_free, sizeof(on_free) / sizeof(on_free[0]),
					 BPF_PROG_TYPE_TRACEPOINT);
	if (pa < 0 || pf < 0) {
		if (pa >= 0)
			close(pa);
		pt_bpf_stop();
		return why;
	}
	events[1] = pt_attach(free_id, pf, NULL); /* frees first: no page may enter the set unseen */
	events[0] = events[1] < 0 ? -1 : pt_attach(alloc_id, pa, NULL);
	close(pa);
	close(pf);
	if (events[0] < 0) {
		pt_bpf_stop();
		return why;
	}
	return NULL;
}

long pt_bpf_pages(void)
{
	uint64_t key, next, order;
	long pages = 0;
	union bpf_attr a;
	if (pages_fd < 0)
		return -1;
	for (int first = 1;; first = 0) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (unsigned)pages_fd;
		a.key = first ? 0 : (uint64_t)(uintptr_t)&key;
		a.next_key = (uint64_t)(uintptr_t)&next;
		if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a))
			break;
		key = next;
		memset(&a, 0, sizeof(a));
		a.map_fd = (unsigned)pages_fd;
		a.key = (uint64_t)(uintptr_t)&key;
		a.value = (uint64_t)(uintptr_t)&order;
		uint64_t flags;
		if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) ||
		    pread(kpageflags_fd, &flags, 8, (off_t)(key * 8)) != 8)
			continue; /* freed meanwhile */
		if (flags & (1ULL << KPF_PGTABLE))
			pages += 1L << order;
	}
	return pages;
}

void pt_bpf_stop(void)
{
	for (int i = 0; i < 2; i++) {
		if (events[i] >= 0)
			close(events[i]);
		events[i] = -1;
	}
	if (pages_fd >= 0)
		close(pages_fd);
	if (kpageflags_fd >= 0)
		close(kpageflags_fd);
	pages_fd = kpageflags_fd = -1;
}
