"""Table and figure of verification EER or identification top-1 against the number of training speakers:

    python local/plot_learning_curve.py [--task verification] [--png docs/img/learning_curve.png] <exp>/curve_25 ...
    python local/plot_learning_curve.py --task identification [--png docs/img/learning_curve_iden.png] <exp>/iden_curve_25 ...

Each argument is an experiment dir written by local/learning_curve.sh (its ``speakers`` file gives the
number of training speakers, its RESULTS.json the figures). Prints one line per system with the
verification EER (%) or identification top-1 (%) at every size and what each figure counted (trials or
utterances scored / listed), and draws the figure against speakers (log scale).
"""
import argparse
import os

import matplotlib.pyplot as plt

from pyspk import results

# task -> (RESULTS field, its label, what a figure counted, systems)
TASKS = {
    "verification": ("eer", "EER (%)", "trials",
                     ("cnn_b_softmax", "cnn_b_joint", "cnn_b_joint_asnorm", "cnn_b_joint_plda", "gmm_ubm",
                      "ivector_plda")),
    "identification": ("top1", "top-1 accuracy (%)", "utts",
                       ("cnn_b_softmax", "cnn_b_joint", "cnn_b_softmax_svm", "cnn_b_softmax_plda_svm", "cnn_b_joint_svm",
                        "cnn_b_joint_plda_svm", "ivector_svm", "ivector_plda_svm")),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="verification")
    parser.add_argument("--png", default=None,
                        help="default docs/img/learning_curve.png (verification), learning_curve_iden.png")
    parser.add_argument("exp_dirs", nargs="+")
    args = parser.parse_args()
    field, label, counted, systems = TASKS[args.task]
    png = args.png or f"docs/img/learning_curve{'_iden' if args.task == 'identification' else ''}.png"
    sizes, table = [], {s: [] for s in systems}
    for d in args.exp_dirs:
        with open(os.path.join(d, "speakers")) as f:
            sizes.append(sum(1 for line in f if line.strip()))
        rows = {r["system"]: r for r in results.load(d).values() if field in r}
        for system in systems:
            table[system].append(rows.get(system))
    width = max(len(s) for s in systems) + 2
    print(f"{'system':<{width}}" + "".join(f"{n:>10} spk" for n in sizes) + f"   {counted} counted/listed")
    for system, cells in table.items():
        figures = "".join(f"{c[field]:>13.2f}%" if c else f"{'-':>14}" for c in cells)
        counts = ", ".join(f"{c[counted + '_counted']}/{c[counted + '_listed']}" if counted + "_listed" in c
                           else "not recorded" for c in cells if c)
        print(f"{system:<{width}}{figures}   {counts}")
    fig, ax = plt.subplots(figsize=(8, 4))
    for system, cells in table.items():
        points = [(n, c[field]) for n, c in zip(sizes, cells) if c]
        if points:
            ax.plot(*zip(*points), marker="o", label=system)
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.set_xlabel("training speakers" if args.task == "verification" else "speakers (classes)")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", bbox_to_anchor=(1.02, 1), loc="upper left")  # beside the lines, not over them
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    print(f"plot_learning_curve: {png}")


if __name__ == "__main__":
    main()
