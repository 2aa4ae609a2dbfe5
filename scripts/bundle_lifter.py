"""Copy a trained lifter into the package as a bundled one (poseda/models/bundled/), weights only
(no optimiser state), with a record of how it was made, on what data, under which licences.

    python scripts/bundle_lifter.py RUN/last --name default

The bundled default was made by (docs/footage.md, "The bundled lifter"):

    poseda data prepare -d h36m -d bandai-wild
    poseda adapt -c footage -m gpa -t bandai-wild run.out=runs
    python scripts/bundle_lifter.py runs/footage-gpa-bandai-wild/last --name default
"""
from __future__ import annotations

import argparse

from poseda.inference import copy_lifter
from poseda.models.bundled import BUNDLED, FOLDER
from poseda.models.checkpoint import clean_checkpoint_files

MADE_BY = ["poseda data prepare -d h36m -d bandai-wild",
           "poseda adapt -c footage -m gpa -t bandai-wild run.out=runs",
           "python scripts/bundle_lifter.py runs/footage-gpa-bandai-wild/last --name default"]
DATA = {
    "3D and 2D pairs": "Human3.6M training subjects S1 S5 S6 S7 S8 (the motion-prediction exponential-map copy, "
                       "projected with Human3.6M's four calibrated cameras; poseda domain h36m)",
    "2D only (GPA placement and cameras)": "bandai-wild's adaptation split: Bandai Namco Research Motion Dataset 1 "
                                           "seen by hand-held style cameras (poseda domain bandai-wild)",
}
LICENCES = [
    "Human3.6M: its licence permits academic, non-commercial research use only (http://vision.imar.ro/human3.6m/)",
    "Bandai Namco Research Motion Dataset 1: CC BY-NC 4.0 "
    "(https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset)",
    "So these weights are for non-commercial research; poseda's own code is MIT.",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--name", default="default", choices=sorted(BUNDLED))
    args = ap.parse_args()
    stem = FOLDER / BUNDLED[args.name]
    copy_lifter(args.checkpoint, stem, bundled={"name": args.name, "from": str(args.checkpoint), "made_by": MADE_BY,
                                                "data": DATA, "licences": LICENCES})
    clean_checkpoint_files(stem)
    size = sum(p.stat().st_size for p in FOLDER.glob(f"{stem.name}*"))
    print(f"written: {stem}.json and its weights ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
