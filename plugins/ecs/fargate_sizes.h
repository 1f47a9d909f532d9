/* fargate_sizes.h — the CPU/memory combinations Fargate accepts, and the
 * smallest one that covers a request. The table is AWS's current one
 * (Linux tasks): 0.25 to 16 vCPU, 0.5 to 120 GB. */
#ifndef MN_ECS_FARGATE_SIZES_H
#define MN_ECS_FARGATE_SIZES_H

struct mn_ecs_fargate_size {
  int cpu;    /* CPU units (1024 per vCPU) */
  int memory; /* MiB */
};

/* The smallest valid size with at least vcpus vCPUs and memory_gb GB (a
 * request at or below zero asks for the minimum). Returns 0, or -1 when no
 * Fargate size is that large (or the numbers are not finite). */
int mn_ecs_fargate_size(double vcpus, double memory_gb, struct mn_ecs_fargate_size *out);

/* 1 when cpu/memory (units, MiB) is a combination Fargate accepts. */
int mn_ecs_fargate_valid(int cpu, int memory);

#endif
