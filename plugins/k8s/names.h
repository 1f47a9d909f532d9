/* names.h — Kubernetes names and values derived from Multinode ids: Job
 * names (DNS-1123 labels), label values, resource quantities. Pure helpers
 * (tests/unit/test_k8s_names.c). */
#ifndef MN_K8S_NAMES_H
#define MN_K8S_NAMES_H

#include <stddef.h>

/* A DNS-1123 label (<= 63 chars, [a-z0-9-], alphanumeric at both ends) for
 * the Job of an execution: "mn-<id>" when that is already valid, else a
 * sanitised prefix plus a hash of the id, so distinct ids never collide.
 * out must hold 64 bytes. */
void mn_k8s_job_name(const char *execution_id, char out[64]);

/* A valid label value (<= 63 chars of [A-Za-z0-9._-], alphanumeric at both
 * ends, or empty): the value itself when valid, else a sanitised prefix and
 * a hash. out must hold 64 bytes. */
void mn_k8s_label_value(const char *value, char out[64]);

/* 1 when s is a valid label value as is. */
int mn_k8s_label_value_valid(const char *s);

/* CPU as millicores ("500m", "2"), memory as "256Mi" / "4Gi" (binary units,
 * rounded up to a whole Mi). Return -1 for a value <= 0 or absurd. */
int mn_k8s_cpu_quantity(double vcpus, char *out, size_t size);
int mn_k8s_memory_quantity(double memory_gb, char *out, size_t size);



/* 1 when ref looks like a valid image reference ([host[:port]/]path[:tag]
 * [@digest], repository path in lowercase); else 0 and why in err. */
int mn_k8s_image_valid(const char *ref, char *err, size_t err_size);

#endif
