/* The suite as C++17 (see suite.h). */
#include "../test_modules.c"
