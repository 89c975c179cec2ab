"""Starting jobs together: each in its own thread, released at once by a barrier."""

import threading
from concurrent.futures import ThreadPoolExecutor


def run_all(workers: int, jobs):
    start = threading.Barrier(workers)

    def run(job):
        start.wait()
        return job()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, jobs))
