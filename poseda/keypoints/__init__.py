"""2D keypoints as people have them: the formats detectors write and their conversion into the
lifter's joints (:mod:`~poseda.keypoints.formats`), readers (:mod:`~poseda.keypoints.readers`),
people tracked over frames with missing joints filled (:mod:`~poseda.keypoints.tracks`), a file's
camera (:mod:`~poseda.keypoints.camera`) and an optional bundled detector
(:mod:`~poseda.keypoints.detect`)."""
