/* The probe's own page-table pages, counted by a BPF program (probe_bpf.c). */
#ifndef PTLAB_PROBE_BPF_H
#define PTLAB_PROBE_BPF_H

/* Starts counting the tables the tasks of cgroup v2 `cgroup_id` construct; NULL, or why not. */
const char *pt_bpf_start(unsigned long long cgroup_id);
/* Page-table pages of those tables still constructed (ctor minus dtor), or -1. */
long pt_bpf_pages(void);
/* Stops counting. */
void pt_bpf_stop(void);

#endif
