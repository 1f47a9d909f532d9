/* fargate_sizes.c — Fargate's CPU/memory table, walked in ascending order
 * (CPU first, then memory), so the first row that covers a request is the
 * cheapest size that does. */
#include "fargate_sizes.h"

#include <math.h>

/* One CPU size and the memory it allows: min..max in steps of step MiB.
 * 0.25 vCPU is the exception (512, 1024, 2048), listed as two rows. */
static const struct row {
  int cpu, min, max, step;
} rows[] = {
    {256, 512, 512, 512},       {256, 1024, 2048, 1024},     {512, 1024, 4096, 1024},
    {1024, 2048, 8192, 1024},   {2048, 4096, 16384, 1024},   {4096, 8192, 30720, 1024},
    {8192, 16384, 61440, 4096}, {16384, 32768, 122880, 8192},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

/* Units needed for x (vCPU or GB, 1024 units each), tolerant of the float
 * noise of 0.1 * 1024 and the like. */
static double units(double x) {
  if (x <= 0)
    return 0;
  double want = x * 1024.0 * (1.0 - 1e-6); /* float noise is not a larger request */
  double whole = (double)(long long)want;
  return whole < want ? whole + 1 : whole;
}

int mn_ecs_fargate_size(double vcpus, double memory_gb, struct mn_ecs_fargate_size *out) {
  if (!isfinite(vcpus) || !isfinite(memory_gb) || vcpus > 1e6 || memory_gb > 1e6)
    return -1; /* (and no cast below overflows) */
  double cpu = units(vcpus), mem = units(memory_gb);
  for (unsigned i = 0; i < N_ROWS; i++) {
    const struct row *r = &rows[i];
    if (r->cpu < cpu || r->max < mem)
      continue;
    double m = r->min;
    if (mem > m)
      m = r->min + (double)(((long long)(mem - r->min) + r->step - 1) / r->step) * r->step;
    out->cpu = r->cpu;
    out->memory = (int)m;
    return 0;
  }
  return -1;
}

int mn_ecs_fargate_valid(int cpu, int memory) {
  for (unsigned i = 0; i < N_ROWS; i++) {
    const struct row *r = &rows[i];
    if (r->cpu == cpu && memory >= r->min && memory <= r->max && (memory - r->min) % r->step == 0)
      return 1;
  }
  return 0;
}
