#!/usr/bin/env python3
"""Runs protoc with the C++ and gRPC generators, then renames C++-keyword namespaces.

SPIRE's init service lives in the proto package spire.service.private.init.v1. protoc 3.21 turns
every package segment into a C++ namespace as is, and `private` is a C++ keyword, so the
generated code does not compile. The package name itself is wire contract (it is part of every
method path and of the embedded descriptor), so it stays; only the C++ namespace becomes
`private_`. String literals keep their dotted names and are not touched.

usage: protoc_cpp.py PROTOC GRPC_CPP_PLUGIN PROTO_DIR OUT_DIR PROTO
"""

import pathlib
import re
import subprocess
import sys

KEYWORD_NAMESPACES = ["private"]


def main() -> int:
    protoc, grpc_plugin, proto_dir, out_dir, proto = sys.argv[1:6]
    subprocess.run(
        [protoc, f"--proto_path={proto_dir}", f"--cpp_out={out_dir}", f"--grpc_out={out_dir}",
         f"--plugin=protoc-gen-grpc={grpc_plugin}", proto],
        check=True)

    stem = pathlib.Path(proto).name[: -len(".proto")]
    for suffix in (".pb.h", ".pb.cc", ".grpc.pb.h", ".grpc.pb.cc"):
        path = pathlib.Path(out_dir) / (stem + suffix)
        text = path.read_text()
        for word in KEYWORD_NAMESPACES:
            text = re.sub(rf"\bnamespace {word}\b", f"namespace {word}_", text)
            text = re.sub(rf"::{word}::", f"::{word}_::", text)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
