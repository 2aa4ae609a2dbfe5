"""Published facts the built-in domains need besides the upstream downloads, packaged so that a
data root holds only what its publishers distribute:

| file | what | source |
|---|---|---|
| `cameras/h36m.json` | Human3.6M calibration: 4 cameras' intrinsics with distortion, extrinsics per subject | Ionescu et al., TPAMI 2014 (as also listed in VideoPose3D's `common/h36m_dataset.py`) |
| `cameras/humaneva-i.json` | HumanEva-I extrinsics per subject and camera | Sigal et al., IJCV 2010 |
| `cameras/mpi-inf-3dhp-test.json` | MPI-INF-3DHP test-set intrinsics (TS1-TS4 studio, TS5-TS6 outdoor) | Mehta et al., 3DV 2017 |
| `skeletons/h36m-expmap-32.json` | the skeleton template of the Human3.6M exponential-map files | the motion-prediction copies (Martinez et al., CVPR 2017) |
| `skeletons/cmu-expmap-38.json` | the skeleton template of the CMU exponential-map files | the same copies |

A file of the same relative path in the data root overrides the packaged one
(:func:`poseda.domains.mirror.fact_file`).
"""
