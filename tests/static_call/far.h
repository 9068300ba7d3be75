#ifndef EMKIT_TEST_FAR_H
#define EMKIT_TEST_FAR_H
int far_triple(int x);
int far_negate(int x);
#endif
