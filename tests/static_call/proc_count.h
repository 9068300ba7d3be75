/*
 * What of this process is the static-call library's, from /proc/self: its
 * descriptors (its memfds, named "emkit-static-call") and the mappings of those
 * memfds or of @path's code (NULL: none). Anonymous mappings are left out: a
 * sanitizer's allocator makes them as it pleases. Each returns -1 if /proc
 * cannot be read. Shared by the suite (suite.h) and test_many_keys.c; plain C
 * that C++ can call.
 */
#ifndef EMKIT_TEST_STATIC_CALL_PROC_COUNT_H
#define EMKIT_TEST_STATIC_CALL_PROC_COUNT_H

#ifdef __cplusplus
extern "C" {
#endif

int proc_count_fds(void);
int proc_count_maps(const char *path);

#ifdef __cplusplus
}
#endif

#endif
