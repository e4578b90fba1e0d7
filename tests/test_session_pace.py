"""An audience session's CPU budget in a room (explorer/room/session_pace.py), on a clock the test moves by hand: a
real student's pace never waits, a flood of new views waits and is held to the budget, the presenter is never
paced, and a fragment's run inside a page's run is charged once. (A real server under a flood: the pacing test in
tests/test_protocol_guards.py.)"""
import pytest

from explorer.room.session_pace import BUCKET, BURST, MAX_WAIT, RATE, TOLD_FROM, Bucket, bucket_for, metered


class Clock:
    """Wall time and this thread's CPU time, both moved by the test; a sleep moves the wall time."""

    def __init__(self):
        self.now, self.cpu, self.told, self.slept = 0.0, 0.0, [], []

    def tell(self, seconds: float) -> None:
        self.told.append(seconds)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def meter(self, bucket: Bucket | None):
        return metered(bucket, self.tell, clock=lambda: self.now, cpu=lambda: self.cpu, sleep=self.sleep)

    def work(self, cpu_seconds: float) -> None:
        """A run's own work: its CPU time, and as much wall time."""
        self.cpu += cpu_seconds
        self.now += cpu_seconds

    def run(self, bucket: Bucket | None, cpu_seconds: float) -> None:
        with self.meter(bucket):
            self.work(cpu_seconds)


@pytest.mark.parametrize("every, cpu", [(1.0, 0.08), (2.0, 0.08), (1.0, 0.03)])
def test_a_student_acting_every_second_or_two_never_waits(every, cpu):
    clock, bucket = Clock(), Bucket()
    for _ in range(1000):
        clock.run(bucket, cpu)
        clock.now += every
    assert clock.slept == [] and clock.told == []


def test_a_student_opening_a_new_models_pages_one_after_another_never_waits():
    """The first open of a page for a model the worker has not cached costs 1-2 s; the student then acts on it."""
    clock, bucket = Clock(), Bucket()
    for first_open in (2.0, 1.5, 1.0):  # three pages of the new model, a few seconds apart
        clock.run(bucket, first_open)
        for _ in range(3):
            clock.now += 1.0
            clock.run(bucket, 0.08)
    assert clock.slept == []


def test_a_flood_of_new_views_waits_and_is_held_to_the_budget():
    clock, bucket = Clock(), Bucket()
    for _ in range(100):  # a 0.6-s view after another, as fast as the server answers
        clock.run(bucket, 0.6)
    assert clock.slept and clock.told == [wait for wait in clock.slept if wait >= TOLD_FROM]  # announced, then waited
    assert max(clock.slept) <= MAX_WAIT
    assert clock.cpu <= BURST + RATE * clock.now + 0.6  # the budget, give or take the last run
    assert clock.now >= (100 * 0.6 - BURST - 0.6) / RATE  # 60 s of CPU took the time the budget gives it


def test_a_wait_lasts_until_the_bucket_is_back_to_zero_and_at_most_max_wait():
    clock, bucket = Clock(), Bucket()
    clock.run(bucket, BURST + 0.5)  # 0.5 s overdrawn
    clock.run(bucket, 0.1)
    assert clock.slept == [pytest.approx(0.5 / RATE)]
    assert bucket.level == pytest.approx(-0.1 + RATE * 0.1)  # zero when it ran, less its cost, plus its refill
    assert clock.told == clock.slept
    clock.run(bucket, 100.0)
    clock.run(bucket, 0.0)
    assert clock.slept[-1] == MAX_WAIT


def test_a_wait_too_short_to_notice_is_not_announced():
    clock, bucket = Clock(), Bucket()
    clock.run(bucket, BURST + RATE * TOLD_FROM / 2)
    clock.run(bucket, 0.1)
    assert clock.slept == [pytest.approx(TOLD_FROM / 2)] and clock.told == []


def test_a_student_who_stops_gets_the_whole_burst_back():
    clock, bucket = Clock(), Bucket()
    for _ in range(20):
        clock.run(bucket, 0.6)
    clock.now += (BURST + 20 * 0.6) / RATE
    bucket.refill(clock.now)
    assert bucket.level == BURST


def test_the_presenter_and_a_single_user_are_never_paced():
    """roles.is_presenter() counts every session outside room mode as the presenter: neither gets a bucket."""
    state = {}
    assert bucket_for(state, presenter=True) is None and state == {}
    clock = Clock()
    for _ in range(100):
        clock.run(bucket_for(state, presenter=True), 0.6)
    assert clock.slept == []


def test_an_audience_session_keeps_one_bucket_in_its_session_state():
    state = {}
    bucket = bucket_for(state, presenter=False)
    assert state[BUCKET] is bucket and bucket_for(state, presenter=False) is bucket
    assert bucket.level == BURST


def test_a_fragments_run_inside_the_pages_run_is_charged_once():
    clock, bucket = Clock(), Bucket()
    with clock.meter(bucket):
        clock.work(0.5)
        with clock.meter(bucket):  # the fragment's first run, inside the page's
            clock.work(0.2)
        clock.work(0.1)
    assert bucket.level == pytest.approx(BURST - 0.8)
    clock.run(bucket, 0.2)  # the fragment's own rerun later: charged by itself
    assert bucket.level == pytest.approx(BURST - 1.0 + RATE * 0.2)  # less its cost, plus its own refill


def test_a_run_cut_short_by_a_rerun_is_charged_what_it_spent():
    clock, bucket = Clock(), Bucket()

    class Rerun(Exception):
        pass

    with pytest.raises(Rerun), clock.meter(bucket):
        clock.work(0.4)
        raise Rerun
    assert bucket.level == pytest.approx(BURST - 0.4)
    with clock.meter(bucket):  # and the next run is metered again (the nesting mark was cleared)
        clock.work(0.1)
    assert bucket.level == pytest.approx(BURST - 0.5 + RATE * 0.1)


@pytest.mark.parametrize("run_every", [None, 2.0])
def test_a_fragments_reruns_are_metered_whether_a_visitor_or_a_poll_asks_for_them(monkeypatch, run_every):
    """A client decides when it asks for a poll's rerun, so a poll (run_every) is metered as a click is."""
    from explorer.room import session_pace

    declared, metered_runs = {}, []

    def fake_fragment(func, run_every=None):
        declared.update(func=func, run_every=run_every)
        return func

    class Meter:
        def __enter__(self):
            metered_runs.append("start")

        def __exit__(self, *exc):
            metered_runs.append("end")

    monkeypatch.setattr(session_pace.st, "fragment", fake_fragment)
    monkeypatch.setattr(session_pace, "paced_run", Meter)
    decorate = session_pace.fragment if run_every is None else session_pace.fragment(run_every=run_every)
    poll = decorate(lambda: metered_runs.append("body") or "drawn")
    assert declared["run_every"] == run_every
    assert poll() == "drawn" and metered_runs == ["start", "body", "end"]
