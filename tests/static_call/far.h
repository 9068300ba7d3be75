#ifndef EMKIT_TEST_FAR_H
#define EMKIT_TEST_FAR_H
#ifdef __cplusplus
extern "C" {
#endif
int far_triple(int x);
int far_negate(int x);
#ifdef __cplusplus
}
#endif
#endif
