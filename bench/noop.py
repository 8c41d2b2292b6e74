"""The ceiling task: does nothing, so its throughput is django-q2's own on a broker."""


def noop(i: int) -> int:
    return i
