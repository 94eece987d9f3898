#!/usr/bin/env bash
# Fails when an object file of exitblock's own targets references a symbol of Foundation
# proper (module Foundation, which brings FoundationInternationalization and ICU's ~30 MiB
# of data into the static binary). The sources use FoundationEssentials, but a name that
# only Foundation has (CharacterSet.alphanumerics, String(format:)) still resolves through
# a dependency that re-exports Foundation, silently. Objects whose source file is gone (a
# reused build directory) are skipped. Usage: foundation_refs.sh BIN_PATH TARGET=DIR...
set -euo pipefail
bin_path=$1
(($# > 1)) || { echo "usage: foundation_refs.sh BIN_PATH TARGET=DIR..." >&2; exit 2; }
shift
found=0
for pair in "$@"; do
    target=${pair%%=*}
    dir=${pair#*=}
    for object in "$bin_path/$target.build"/*.o; do
        [[ -f "$object" ]] || continue
        source_name=$(basename "$object" .o)
        [[ -n "$(find "$dir" -name "$source_name" -print -quit)" ]] || continue
        refs=$(nm -u "$object" | grep -E '10Foundation([0-9]|E)' || true)
        if [[ -n "$refs" ]]; then
            echo "foundation: $object references Foundation proper:"
            echo "$refs" | swift demangle | sed 's/^/    /'
            found=1
        fi
    done
done
if ((found)); then
    echo "foundation: use FoundationEssentials' API or write it by hand"
    exit 1
fi
echo "foundation: no object of ${#} targets references Foundation proper"
