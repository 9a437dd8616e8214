#!/usr/bin/env python3
"""Reference timing for embed-throughput: torchvision ResNet-50 trunk conv1..layer3 in torch eager mode.

Random weights (the speed does not depend on them), eval mode, torch.no_grad, 224 x 224 random input,
images per second for each batch size. Needs python3-torchvision (Debian package).

    /usr/bin/python3 benchmarks/reference/resnet50_torch_eager.py [--batch 1,8,16] [--seconds 4] [--threads 2]

Compare with: dotnet run -c Release --project benchmarks/AnomalyClustering.Benchmarks -- embed-throughput
"""
import argparse
import time

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", default="1,8,16")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    net = torchvision.models.resnet50(weights=None)
    trunk = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3).eval()
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {torch.get_num_threads()} threads, resnet50 conv1..layer3 eager")

    with torch.no_grad():
        for batch in [int(b) for b in args.batch.split(",")]:
            x = torch.rand(batch, 3, 224, 224) * 4 - 2
            trunk(x)  # warm-up: allocator and kernel selection
            trunk(x)
            runs = 0
            cpu_start = time.process_time()
            start = time.perf_counter()
            while runs < 2 or time.perf_counter() - start < args.seconds:
                trunk(x)
                runs += 1
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            print(f"batch {batch:3d}: {runs * batch / elapsed:7.2f} images/s  ({elapsed / runs * 1000:8.1f} ms per batch, {runs} batches, "
                  f"{cpu / (runs * batch):.3f} CPU-s per image)")


if __name__ == "__main__":
    main()
