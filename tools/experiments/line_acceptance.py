#!/usr/bin/python3
"""The production-line acceptance flow's two helpers (docs/RESULTS.md, "Production lines: the magnetic-tile acceptance flow").

split: a seeded split, stratified by class, of an MVTec-layout dataset's test images into a job half (JOB/test/<class>/,
  with JOB/train/good linking the dataset's normal images, where it has them) and a feed half (FEED/<class>/), as symbolic links; with
  --hold-out CLASS the job half leaves that class out (the feed half keeps it: a type the line has never seen).
names: names.json for a result folder, each cluster named by the majority label of its members (as an engineer reading
  its gallery would); a second cluster of the same majority is "<label> (2)". Ties go to the alphabetically first label.
pool: the class make-up of a line's novel pool and of its latest recluster proposals (labels read from the fed file
  names, CLASS/NAME), from the line's folder in a local store (STORE/blobs/lines/_/LINE).
"""
import argparse
import glob
import collections
import csv
import json
import os
import random
import sys


def split(args):
    test = os.path.join(args.dataset, "test")
    classes = sorted(c for c in os.listdir(test) if os.path.isdir(os.path.join(test, c)))
    rng = random.Random(args.seed)
    counts = {}
    for label in classes:
        files = sorted(f for f in os.listdir(os.path.join(test, label)) if not f.startswith("."))
        rng.shuffle(files)
        half = len(files) // 2
        job, feed = files[:half], files[half:]
        if label == args.hold_out:
            job = []
        for folder, members in ((os.path.join(args.out, "job", "test", label), job), (os.path.join(args.out, "feed", label), feed)):
            if not members:
                continue
            os.makedirs(folder, exist_ok=True)
            for name in members:
                os.symlink(os.path.abspath(os.path.join(test, label, name)), os.path.join(folder, name))
        counts[label] = (len(job), len(feed))
    normal = os.path.join(args.dataset, "train", "good")
    if os.path.isdir(normal):  # NEU-DET has no normal images: its jobs run unsupervised or average
        os.makedirs(os.path.join(args.out, "job", "train"), exist_ok=True)
        os.symlink(os.path.abspath(normal), os.path.join(args.out, "job", "train", "good"))
    for label, (job, feed) in counts.items():
        print(f"{label}: job {job}, feed {feed}")
    print(f"total: job {sum(j for j, _ in counts.values())}, feed {sum(f for _, f in counts.values())}")


def names(args):
    members = collections.defaultdict(collections.Counter)
    with open(os.path.join(args.result, "clusters.csv"), newline="") as table:
        for row in csv.DictReader(table):
            members[int(row["cluster"])][row["label"]] += 1
    used = collections.Counter()
    named = {}
    for cluster in sorted(members):
        label = sorted(members[cluster].items(), key=lambda item: (-item[1], item[0]))[0][0]
        used[label] += 1
        named[str(cluster)] = label if used[label] == 1 else f"{label} ({used[label]})"
        print(f"cluster {cluster}: {named[str(cluster)]} {dict(members[cluster])}")
    with open(args.out, "w") as out:
        json.dump(named, out, indent=2)


def pool(args):
    images = {}
    for path in glob.glob(os.path.join(args.line, "novel", "images", "*.json")):
        with open(path) as entry:
            image = json.load(entry)
        images[image["imageId"]] = image["fileName"].split("/")[0]
    print("pool:", dict(collections.Counter(images.values())))
    proposals = os.path.join(args.line, "novel", "proposals.json")
    if os.path.exists(proposals):
        with open(proposals) as made:
            for proposal in json.load(made)["proposals"]:
                print(proposal["id"], proposal["size"], dict(collections.Counter(images.get(m, "?") for m in proposal["members"])))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser("split")
    s.add_argument("dataset")
    s.add_argument("out")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--hold-out")
    n = commands.add_parser("names")
    n.add_argument("result")
    n.add_argument("out")
    p = commands.add_parser("pool")
    p.add_argument("line")
    args = parser.parse_args()
    {"split": split, "names": names, "pool": pool}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
