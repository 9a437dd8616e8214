#!/usr/bin/env python3
"""Zeroes every cubin of a CUDA library's .nv_fatbin section but those of one architecture (default sm_90).

The file keeps its size and layout (the runtime reads the fatbin's headers and loads only the cubin of the GPU's
architecture; there is no PTX to fall back on), so the zeroed parts compress to almost nothing. Used to carry ONNX
Runtime's CUDA provider to a Hopper machine in a limited transfer: benchmarks/gpu/make-bundle.sh.
Usage: strip-fatbin.py INPUT.so OUTPUT.so [ARCH=90]
"""
import struct
import subprocess
import sys

FATBIN_MAGIC = 0xBA55ED50


def fatbin_section(path):
    for line in subprocess.run(["readelf", "-SW", path], check=True, capture_output=True, text=True).stdout.splitlines():
        fields = line.replace("[ ", "[").split()
        if ".nv_fatbin" in fields:
            at = fields.index(".nv_fatbin")
            return int(fields[at + 3], 16), int(fields[at + 4], 16)  # file offset, size
    raise SystemExit(f"{path} has no .nv_fatbin section")


def main():
    source, target = sys.argv[1], sys.argv[2]
    keep = int(sys.argv[3]) if len(sys.argv) > 3 else 90
    data = bytearray(open(source, "rb").read())
    offset, size = fatbin_section(source)
    kept = zeroed = 0
    position, end = offset, offset + size
    while position < end:
        magic, _version, header_size, fat_size = struct.unpack_from("<IHHQ", data, position)
        if magic != FATBIN_MAGIC:
            position += 8  # alignment padding between containers
            continue
        entry, container_end = position + header_size, position + header_size + fat_size
        while entry < container_end:
            _kind, _unused, entry_header, payload = struct.unpack_from("<HHIQ", data, entry)
            arch = struct.unpack_from("<I", data, entry + 28)[0]
            if arch == keep:
                kept += payload
            else:
                data[entry + entry_header:entry + entry_header + payload] = bytes(payload)
                zeroed += payload
            entry += entry_header + payload
        position = container_end
    open(target, "wb").write(data)
    print(f"sm_{keep}: kept {kept / 1e6:.1f} MB of cubins, zeroed {zeroed / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
