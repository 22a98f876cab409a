# kefu: the technician's choice of picture quality (`view --quality`), from the console's view
# to the agent's screen server. SPDX-License-Identifier: MIT
#
# Each test draws a photograph-like picture (gradients with grain, where Tight's JPEG is used)
# under a viewer that stays connected (vnc-bench follow) and compares its picture with the X
# server's: lossless must be exact although the viewer asks for JPEG; a fixed level must be
# lossy although the viewer asks for none; auto on loopback must end exact although the viewer
# asks for a low JPEG level (the link keeps up, and what went lossy is refreshed losslessly).
import pytest

from screen_fixtures import Drawer, Follower, ScreenPipe, start_xvfb
from session_fixtures import grant, next_event, private_state, send, support  # noqa: F401

WIDTH, HEIGHT = 640, 480
JPEG_VIEWER = ["--encodings", "tight zrle copyrect raw", "--quality", "1"]
LOSSLESS_TIGHT_VIEWER = ["--encodings", "tight zrle copyrect raw"]
PHOTOS = [(0, 0, 320, 240, 1), (101, 77, 333, 211, 2), (300, 250, 340, 230, 3)]


@pytest.fixture
def display(processes):
    return start_xvfb(processes, WIDTH, HEIGHT)


def watch(processes, display, quality, viewer):
    pipe = ScreenPipe(processes, display, "--quality", quality)
    follower = Follower(processes, pipe.address, pipe.password, display, extra=viewer)
    return pipe, follower


def draw_photos(drawer, follower, timeout_ms):
    """The difference left after each photo, once settled or after timeout_ms."""
    left = []
    for x, y, w, h, seed in PHOTOS:
        drawer.photo(x, y, w, h, seed)
        left.append(follower.check(timeout_ms)["diff"])
    return left


def test_lossless_is_exact_although_the_viewer_asks_for_jpeg(processes, display):
    drawer = Drawer(processes, display)
    _, follower = watch(processes, display, "lossless", JPEG_VIEWER)
    assert draw_photos(drawer, follower, 3000) == [0, 0, 0]


def test_a_fixed_level_is_lossy_although_the_viewer_asks_for_none(processes, display):
    drawer = Drawer(processes, display)
    _, follower = watch(processes, display, "2", LOSSLESS_TIGHT_VIEWER)
    left = draw_photos(drawer, follower, 1500)
    # JPEG at level 2 changes most pixels of a grainy picture, and nothing refreshes them.
    assert all(n > 1000 for n in left), left


def test_auto_on_a_fast_link_ends_exact_although_the_viewer_asks_for_jpeg(processes, display):
    drawer = Drawer(processes, display)
    _, follower = watch(processes, display, "auto", JPEG_VIEWER)
    assert draw_photos(drawer, follower, 5000) == [0, 0, 0]


def test_the_same_viewer_without_kefus_view_gets_the_lossy_picture_it_asked_for(processes,
                                                                             display):
    """The attacker's test of the auto check above: a viewer asking for JPEG level 1 really
    gets lossy pictures when the view passes its encodings as they are (--quality 1 is the
    viewer's own level, added once more), so the exact picture under auto is kefu's doing."""
    drawer = Drawer(processes, display)
    _, follower = watch(processes, display, "1", JPEG_VIEWER)
    left = draw_photos(drawer, follower, 1500)
    assert all(n > 1000 for n in left), left


def test_a_bad_quality_is_refused_with_one_line(processes, display):
    from conftest import run
    from screen_fixtures import tool
    result = run([tool("screen-pipe"), "--display", display, "--quality", "best"], timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == "screen-pipe: --quality takes auto, lossless or 0-9"


# Through a whole session: the console's `view --quality`.


def test_view_quality_through_a_session(private_state, support, processes, monkeypatch,  # noqa: F811
                                        display):
    monkeypatch.setenv("DISPLAY", display)
    drawer = Drawer(processes, display)
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    assert next_event(console, "connected")
    agent.wait_for("is now with you")
    grant(agent, console, "view", "asks to see your screen")
    send(console, "view --no-viewer --quality best")
    assert "lossless or a JPEG level 0-9" in next_event(console, "error")["message"]
    send(console, "view --no-viewer --quality lossless")
    view = next_event(console, "view")
    follower = Follower(processes, view["address"], view["password"], display, extra=JPEG_VIEWER)
    assert draw_photos(drawer, follower, 3000) == [0, 0, 0]
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()
