"""Copy a trained lifter into the package as a bundled one (poseda/models/bundled/), weights only
(no optimiser state), with a record of how it was made, on what data, under which licences.

    python scripts/bundle_lifter.py RUN/last --name default|open

The two bundled lifters were made by (docs/footage.md, "The bundled lifters"): see MADE_BY.
"""
from __future__ import annotations

import argparse

from poseda.inference import copy_lifter, load_lifter
from poseda.models.bundled import BUNDLED, FOLDER
from poseda.models.checkpoint import clean_checkpoint_files

CMU_TERMS = ("CMU Graphics Lab Motion Capture Database (http://mocap.cs.cmu.edu): free for research and commercial "
             "use; the data itself may not be resold")
RECORDS = {
    "default": {
        "made_by": ["poseda data prepare -d h36m -d bandai-wild",
                    "poseda adapt -c footage -m gpa -t bandai-wild run.out=runs",
                    "python scripts/bundle_lifter.py runs/footage-gpa-bandai-wild/last --name default"],
        "data": {
            "3D and 2D pairs": "Human3.6M training subjects S1 S5 S6 S7 S8 (the motion-prediction exponential-map copy, "
                               "projected with Human3.6M's four calibrated cameras; poseda domain h36m)",
            "2D only (GPA placement and cameras)": "bandai-wild's adaptation split: Bandai Namco Research Motion Dataset 1 "
                                                   "seen by hand-held style cameras (poseda domain bandai-wild)"},
        "licences": [
            "Human3.6M: its licence permits academic, non-commercial research use only (http://vision.imar.ro/human3.6m/)",
            "Bandai Namco Research Motion Dataset 1: CC BY-NC 4.0 "
            "(https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset)",
            "So these weights are for non-commercial research; poseda's own code is MIT."]},
    "open": {
        "made_by": ["poseda data prepare -d cmu-handheld",
                    "poseda train -c open run.out=runs",
                    "python scripts/bundle_lifter.py runs/open/best --name open"],
        "data": {
            "3D and 2D pairs": "CMU motion capture, the training split of the cmu-expmap copy (7 actions, 32 sequences, "
                               "30 frames/s), each sequence seen by 16 cameras drawn from poseda's handheld rig "
                               "(poseda domain cmu-handheld, revision 2: the pelvis at the midpoint of the hips); "
                               "no other dataset, no target's 2D"},
        "licences": [CMU_TERMS,
                     "poseda's code and its rig files are MIT; so these weights may be used commercially too."]},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--name", default="default", choices=sorted(BUNDLED))
    args = ap.parse_args()
    stem = FOLDER / BUNDLED[args.name]
    _, rec, _ = load_lifter(args.checkpoint)
    run = rec["config"]["run"] | {"out": "runs", "dir": None}  # no folder of the machine that made it
    copy_lifter(args.checkpoint, stem, config=rec["config"] | {"run": run},
                bundled={"name": args.name, "from": str(args.checkpoint), **RECORDS[args.name]})
    clean_checkpoint_files(stem)
    size = sum(p.stat().st_size for p in FOLDER.glob(f"{stem.name}*"))
    print(f"written: {stem}.json and its weights ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
