/*
 * ptlab host probe: carries out scenario operations in real process memory and reports what the
 * running kernel says (VmPTE from /proc/PID/status, nr_page_table_pages from /proc/vmstat after
 * /proc/sys/vm/stat_refresh folds the per-CPU deltas).
 *
 * Commands, one per line on stdin (numbers in decimal or 0x hex):
 *   map ADDR SIZE          mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_FIXED_NOREPLACE),
 *                          then MADV_NOHUGEPAGE (no commit charge, so 64G fits)
 *   touch ADDR SIZE STEP   write one byte at ADDR, ADDR+STEP, ... below ADDR+SIZE
 *   unmap ADDR SIZE        munmap
 *   dontneed ADDR SIZE     madvise(MADV_DONTNEED)
 *   fork NAME              fork a child that waits until `exit NAME`
 *   exit NAME              let the child NAME exit and reap it
 *   forkbase               VmPTE of a child forked now (what fork copies of this process alone)
 *   measure LABEL          one JSON line: self VmPTE, children's VmPTE, nr_page_table_pages
 *   facts                  the kernel release and the CPU flags la57 and pti
 *   quit
 * Every reply is one JSON line. The probe allocates nothing after start-up, so its own page
 * tables change only through the commands.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define MAX_CHILDREN 16

static char out[65536];
static char line[4096];
static char fbuf[16384];

struct child {
	char name[64];
	pid_t pid;
	int fd; /* write end of the pipe the child waits on */
};
static struct child children[MAX_CHILDREN];

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

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* nr_page_table_pages once it has not moved for 100 ms (RCU-deferred frees land), or -1. */
static long settled_nrpt(int *stable)
{
	long v = nr_page_table_pages();
	int same = 0;
	*stable = 0;
	if (v < 0)
		return -1;
	for (int i = 0; i < 600; i++) {
		sleep_ms(5);
		long w = nr_page_table_pages();
		if (w == v) {
			if (++same >= 20) {
				*stable = 1;
				return v;
			}
		} else {
			same = 0;
			v = w;
		}
	}
	return v;
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

static pid_t spawn_waiter(int *wfd)
{
	int fd[2];
	if (pipe(fd))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(fd[1]);
		while (read(fd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fd[0]);
	*wfd = fd[1];
	return pid;
}

static void reap(pid_t pid, int fd)
{
	char c = 'x';
	if (write(fd, &c, 1) != 1) {
		/* the child is gone already */
	}
	close(fd);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void fail(const char *what, const char *arg)
{
	snprintf(out, sizeof(out), "{\"error\":\"%s %s: %s\"}\n", what, arg, strerror(errno));
	emit(out);
}

int main(void)
{
	char *tok[8];
	signal(SIGPIPE, SIG_IGN);
	snprintf(out, sizeof(out), "{\"ready\":true,\"pid\":%d,\"vmpte\":%ld}\n", (int)getpid(),
		 vmpte_of(getpid()));
	emit(out);
	for (;;) {
		size_t n = 0;
		char c;
		while (n < sizeof(line) - 1) {
			ssize_t r = read(0, &c, 1);
			if (r <= 0)
				goto done;
			if (c == '\n')
				break;
			line[n++] = c;
		}
		line[n] = 0;
		int nt = 0;
		for (char *p = strtok(line, " \t"); p && nt < 8; p = strtok(NULL, " \t"))
			tok[nt++] = p;
		if (nt == 0)
			continue;
		const char *cmd = tok[0];
		if (!strcmp(cmd, "quit"))
			break;
		if (!strcmp(cmd, "map") && nt == 3) {
			unsigned long a = num(tok[1]), s = num(tok[2]);
			void *r = mmap((void *)a, s, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
			if (r == MAP_FAILED || (unsigned long)r != a) {
				fail("mmap", tok[1]);
				continue;
			}
			madvise(r, s, MADV_NOHUGEPAGE);
		} else if (!strcmp(cmd, "touch") && nt == 4) {
			unsigned long a = num(tok[1]), s = num(tok[2]), st = num(tok[3]);
			for (unsigned long x = a; x < a + s; x += st)
				*(volatile char *)x = 1;
		} else if (!strcmp(cmd, "unmap") && nt == 3) {
			if (munmap((void *)num(tok[1]), num(tok[2]))) {
				fail("munmap", tok[1]);
				continue;
			}
		} else if (!strcmp(cmd, "dontneed") && nt == 3) {
			if (madvise((void *)num(tok[1]), num(tok[2]), MADV_DONTNEED)) {
				fail("madvise", tok[1]);
				continue;
			}
		} else if (!strcmp(cmd, "fork") && nt == 2) {
			int slot = -1;
			for (int i = 0; i < MAX_CHILDREN; i++)
				if (!children[i].pid)
					slot = i;
			if (slot < 0) {
				fail("fork", "too many children");
				continue;
			}
			pid_t pid = spawn_waiter(&children[slot].fd);
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
			reap(ch->pid, ch->fd);
			ch->pid = 0;
		} else if (!strcmp(cmd, "forkbase")) {
			int fd;
			pid_t pid = spawn_waiter(&fd);
			if (pid < 0) {
				fail("fork", "forkbase");
				continue;
			}
			long v = vmpte_of(pid);
			reap(pid, fd);
			snprintf(out, sizeof(out), "{\"forkbase\":%ld}\n", v);
			emit(out);
			continue;
		} else if (!strcmp(cmd, "facts")) {
			struct utsname u;
			uname(&u);
			snprintf(out, sizeof(out),
				 "{\"release\":\"%s\",\"machine\":\"%s\",\"la57\":%s,\"pti\":%s}\n",
				 u.release, u.machine, cpu_flag("la57") ? "true" : "false",
				 cpu_flag("pti") ? "true" : "false");
			emit(out);
			continue;
		} else if (!strcmp(cmd, "measure") && nt == 2) {
			int stable;
			long nrpt = settled_nrpt(&stable);
			size_t o = (size_t)snprintf(out, sizeof(out),
						    "{\"label\":\"%s\",\"vmpte\":%ld,\"nrpt\":%ld,"
						    "\"stable\":%s,\"children\":{",
						    tok[1], vmpte_of(getpid()), nrpt,
						    stable ? "true" : "false");
			int first = 1;
			for (int i = 0; i < MAX_CHILDREN; i++) {
				if (!children[i].pid)
					continue;
				o += (size_t)snprintf(out + o, sizeof(out) - o, "%s\"%s\":%ld",
						      first ? "" : ",", children[i].name,
						      vmpte_of(children[i].pid));
				first = 0;
			}
			snprintf(out + o, sizeof(out) - o, "}}\n");
			emit(out);
			continue;
		} else {
			snprintf(out, sizeof(out), "{\"error\":\"bad command %s\"}\n", cmd);
			emit(out);
			continue;
		}
		emit("{\"ok\":true}\n");
	}
done:
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid)
			reap(children[i].pid, children[i].fd);
	return 0;
}
