// The shims are static inline functions in include/CLinuxSystem.h; SwiftPM wants one source file.
#include "CLinuxSystem.h"
