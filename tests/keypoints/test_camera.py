"""A keypoint file's camera: the default focal length, the user's values, and bad values named."""
import math

import pytest

from poseda.errors import PosedaInputError
from poseda.keypoints.camera import make_camera


def test_camera_defaults_and_user_values():
    c = make_camera((1920, 1080))
    assert c.fx == pytest.approx(math.hypot(1920, 1080)) and (c.cx, c.cy) == (960, 540)
    assert c.to_dict()["horizontal_fov_deg"] == pytest.approx(2 * math.degrees(math.atan(960 / math.hypot(1920, 1080))))
    c = make_camera((1000, 1000), fov_deg=90)
    assert c.fx == pytest.approx(500) and "field of view" in c.source
    c = make_camera((640, 480), focal=800, center=(300, 250))
    assert (c.fx, c.cx, c.cy) == (800, 300, 250)
    for kw, needle in [(dict(focal=-1), "--focal"), (dict(fov_deg=200), "--fov"), (dict(focal=500, fov_deg=60), "not both")]:
        with pytest.raises(PosedaInputError, match=needle):
            make_camera((640, 480), **kw)
