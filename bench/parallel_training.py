"""CNN trainings on the CPU: one at a time with every core, against several at once with a share each.

    python bench/parallel_training.py [--train data/iden_train_spec] [--valid data/iden_val_spec]
        [--config conf/cnn_demo_iden.conf] [--epochs 3] [--jobs N]

In the same run it times (1) one training (`python -m pyspk.bin.train_cnn`, --epochs epochs) with
OMP_NUM_THREADS = the number of cores, then (2) --jobs of the same trainings started together, each with
cores / jobs threads (the split `run.sh --cnn-jobs` makes). It prints wall seconds and the speed-up
= jobs x time(1) / time(2): how much sooner `run.sh`'s stage 2 (two networks) ends with --cnn-jobs 2.
Needs run.sh's stages 0-1 (the defaults are the demo corpus's dirs).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def train(args, exp_dirs, threads):
    """Wall seconds for one train_cnn per exp dir, all started together, each with ``threads`` threads."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "pyspk.bin.train_cnn", f"--config={args.config}", f"--epochs={args.epochs}",
           "--num-workers=0", args.train, args.valid]
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd + [d], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for d in exp_dirs]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            sys.exit(f"parallel_training: train_cnn failed:\n{err.decode()[-2000:]}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="data/iden_train_spec", help="training data dir")
    parser.add_argument("--valid", default="data/iden_val_spec", help="validation data dir")
    parser.add_argument("--config", default="conf/cnn_demo_iden.conf", help="training config")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per training")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="trainings at once (default: cores)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    threads = max(1, cores // args.jobs)
    with tempfile.TemporaryDirectory() as tmp:
        one = train(args, [os.path.join(tmp, "one")], cores)
        many = train(args, [os.path.join(tmp, f"job{j}") for j in range(args.jobs)], threads)
    print(f"{args.config}, {args.epochs} epochs on {args.train}, {cores} cores")
    print(f"one training, {cores} threads:            {one:7.1f} s")
    print(f"{args.jobs} trainings at once, {threads} thread(s) each: {many:7.1f} s")
    print(f"speed-up of {args.jobs} trainings: {args.jobs * one / many:.2f}x "
          f"({args.jobs} x {one:.1f} s one after another vs {many:.1f} s at once)")


if __name__ == "__main__":
    main()
