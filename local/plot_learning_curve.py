"""Table and figure of verification EER against the number of training speakers:

    python local/plot_learning_curve.py [--png docs/img/learning_curve.png] <exp>/curve_25 <exp>/curve_50 ...

Each argument is an experiment dir written by local/learning_curve.sh (its ``speakers`` file gives the
number of training speakers, its RESULTS.json the figures). Prints one line per system with the EER at
every size and the trials each EER counted, and draws EER (%) against speakers (log scale).
"""
import argparse
import os

import matplotlib.pyplot as plt

from pyspk import results

SYSTEMS = ("cnn_b_softmax", "cnn_b_joint", "cnn_b_joint_plda", "gmm_ubm", "ivector_plda")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--png", default="docs/img/learning_curve.png")
    parser.add_argument("exp_dirs", nargs="+")
    args = parser.parse_args()
    sizes, table = [], {s: [] for s in SYSTEMS}
    for d in args.exp_dirs:
        with open(os.path.join(d, "speakers")) as f:
            sizes.append(sum(1 for line in f if line.strip()))
        rows = {r["system"]: r for r in results.load(d).values() if "eer" in r}
        for system in SYSTEMS:
            table[system].append(rows.get(system))
    print(f"{'system':<18}" + "".join(f"{n:>10} spk" for n in sizes) + "   trials counted/listed")
    for system, cells in table.items():
        eers = "".join(f"{c['eer']:>13.2f}%" if c else f"{'-':>14}" for c in cells)
        counts = ", ".join(f"{c['trials_counted']}/{c['trials_listed']}" if "trials_listed" in c else "not recorded"
                           for c in cells if c)
        print(f"{system:<18}{eers}   {counts}")
    fig, ax = plt.subplots(figsize=(6, 4))
    for system, cells in table.items():
        points = [(n, c["eer"]) for n, c in zip(sizes, cells) if c]
        if points:
            ax.plot(*zip(*points), marker="o", label=system)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.set_xlabel("training speakers")
    ax.set_ylabel("EER (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.png, dpi=120)
    print(f"plot_learning_curve: {args.png}")


if __name__ == "__main__":
    main()
