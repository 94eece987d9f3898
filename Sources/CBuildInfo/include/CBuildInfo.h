#ifndef CBUILDINFO_H
#define CBUILDINFO_H

// The one value Swift cannot get from SwiftPM at build time: a string given by the build
// environment. Package.swift passes EXITBLOCK_GIT_DESCRIBE as a C define (Swift's -D takes
// no value); this function hands it to Swift. Empty when the build named no commit.
const char *exitblock_git_describe(void);

#endif
