"""Command line: ``python -m homl_rl figures [--list] [--only ID ...] [--out DIR]``."""

import argparse
import sys


def _figures(args):
    from homl_rl.figures import UnknownFigureError, all_figures, make_figures, select_figures

    if args.list:
        for spec in all_figures().values():
            print(f"{spec.fig_id:40s} {spec.kind:9s} {spec.description}")
        return 0
    try:
        select_figures(args.only)
    except UnknownFigureError as error:
        print(f"homl-rl figures: error: {error}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    for spec in make_figures(args.only, out_dir=args.out, progress=not args.quiet):
        print(f"made {spec.fig_id}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="homl-rl",
        description="Reference implementation of chapter 18 (Reinforcement Learning) "
                    "of Hands-On Machine Learning.")
    commands = parser.add_subparsers(dest="command", required=True)
    figures = commands.add_parser("figures", help="regenerate the chapter's figures and animations")
    figures.add_argument("--list", action="store_true", help="list every figure id and exit")
    figures.add_argument("--only", nargs="+", metavar="ID", help="only these figure ids")
    figures.add_argument("--out", metavar="DIR", default=None,
                         help="output directory (default: ./figures)")
    figures.add_argument("--quiet", action="store_true", help="no progress bar")
    figures.set_defaults(run=_figures)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
