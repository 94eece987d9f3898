#include "CBuildInfo.h"

#ifndef EXITBLOCK_GIT_DESCRIBE
#define EXITBLOCK_GIT_DESCRIBE ""
#endif

const char *exitblock_git_describe(void) { return EXITBLOCK_GIT_DESCRIBE; }
