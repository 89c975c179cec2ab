"""Identifiers: prefixed, time-ordered, unguessable.

The prefix tells a human what an id names (cus_, sub_, inv_); the time-ordered
body keeps B-tree inserts local; 80 random bits make ids unguessable, so a
foreign id reveals nothing about other tenants.
"""

import os
import time


def new_id(prefix: str) -> str:
    millis = int(time.time() * 1000)
    return f"{prefix}_{millis:012x}{os.urandom(10).hex()}"
