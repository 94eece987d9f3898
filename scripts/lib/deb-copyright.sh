#!/usr/bin/env bash
# scripts/lib/deb-copyright.sh SCRATCH: print the Debian copyright file (machine-readable
# format 1.0) of the exitblock package: exitblock itself, the Swift runtime and Foundation
# (linked statically), and every Swift package the build resolved under SCRATCH/checkouts,
# with its version (from Package.resolved) and its licence, read from its own licence file.
# Used by scripts/package.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=${1:?usage: deb-copyright.sh SCRATCH}

# version_of NAME: the version Package.resolved pins NAME to ("" when unknown).
version_of() {
    python3 - "$root/Package.resolved" "$1" <<'PY'
import json, sys
try:
    pins = json.load(open(sys.argv[1])).get("pins", [])
except OSError:
    pins = []
for pin in pins:
    if pin.get("identity", "").lower() == sys.argv[2].lower():
        print(pin.get("state", {}).get("version") or pin.get("state", {}).get("revision", "")[:12])
PY
}

cat <<'EOF2'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: exitblock
Upstream-Contact: exitblock maintainers <maintainers@users.noreply.r-seed-0e54a963.example>
Comment: /usr/sbin/exitblock is one program built with Swift's --static-swift-stdlib: the
 Swift runtime, Foundation and the Swift packages listed below are linked into it.

Files: *
Copyright: 2026 exitblock maintainers
License: Apache-2.0
Comment: the full text is in the file LICENSE of the source tree.

Files: swift-runtime/*
Copyright: 2014-2026 Apple Inc. and the Swift project authors
License: Apache-2.0 with Swift Runtime Library Exception
Comment: the Swift standard library, Foundation, Dispatch and XCTest-free runtime
 libraries of the Swift toolchain, linked statically.
EOF2

for dir in "$scratch"/checkouts/*/; do
    name=$(basename "$dir")
    license_file=$(find "$dir" -maxdepth 1 -iname 'licen[cs]e*' -o -maxdepth 1 -iname 'copying*' | head -1)
    license="unknown"
    if [[ -n "$license_file" ]]; then
        if grep -q 'Apache License' "$license_file"; then
            license="Apache-2.0"
            grep -q 'Runtime Library Exception' "$license_file" && license="Apache-2.0 with Swift Runtime Library Exception"
        elif grep -q 'Permission is hereby granted, free of charge' "$license_file"; then
            license="Expat"
        fi
    fi
    holder=$(grep -m1 -E '^ *Copyright \(c\) [0-9]' "$license_file" 2>/dev/null | sed 's/^ *Copyright (c) //' || true)
    printf '\nFiles: %s/*\n' "$name"
    printf 'Copyright: %s\n' "${holder:-the $name authors (see its licence and NOTICE files)}"
    printf 'License: %s\n' "$license"
    printf 'Comment: Swift package %s %s, linked statically where the program uses it.\n' \
        "$name" "$(version_of "$name")"
    if [[ "$name" == swift-nio-ssl || "$name" == swift-crypto ]]; then
        printf ' It embeds BoringSSL, under the OpenSSL, SSLeay and ISC licences (its LICENSE in\n'
        printf ' the package source).\n'
    fi
    if [[ "$name" == TOMLKit ]]; then
        printf ' It embeds toml++ (Copyright (c) Mark Gillard), under the Expat licence.\n'
    fi
done

cat <<'EOF2'

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License.
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in the file /usr/share/common-licenses/Apache-2.0.

License: Apache-2.0 with Swift Runtime Library Exception
 Licensed under the Apache License, Version 2.0, with the Runtime Library
 Exception: "As an exception, if you use this Software to compile your source
 code and portions of this Software are embedded into the binary product as a
 result, you may redistribute such product without providing attribution as
 would otherwise be required by Sections 4(a), 4(b) and 4(d) of the License."
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in the file /usr/share/common-licenses/Apache-2.0.

License: Expat
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE.
EOF2
