"""Starting the four services as separate processes against the real servers, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SERVICES = {"billing_factory": "BILLING", "invoice_factory": "INVOICE", "payment_factory": "PAYMENT", "interface_layer": "EDGE"}


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports. Each is held bound until all are chosen: a port released is handed out again
    at once. Seen in CI: the billing factory lost its bind ("address already in use") while another process on that
    port answered its readiness check and then the edge's calls with 404."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", f"services.{self.name}"], cwd=REPO, env=self.env,
                                     stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


@dataclass
class Cluster:
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    admin_token: str = ""

    @property
    def edge_url(self) -> str:
        return f"http://127.0.0.1:{self.services['interface_layer'].port}"

    def start(self) -> None:
        """Every process started, the edge last (it calls the factories), then each one waited for until ready."""
        for name in sorted(self.services, key=lambda n: n == "interface_layer"):
            self.services[name].start()
        for svc in self.services.values():
            svc.wait_ready()
        for svc in self.services.values():  # another process answering on its port would have hidden a lost bind
            if svc.proc.poll() is not None:
                raise RuntimeError(f"{svc.name} exited with {svc.proc.returncode}:\n{svc.log_tail()}")

    def stop(self) -> None:
        for svc in reversed(list(self.services.values())):
            svc.kill(signal.SIGTERM)


SEPA_CREDITOR = {"CLOUDBILL_PAYMENT_SEPA_CREDITOR_NAME": "Cycle Cloud GmbH", "CLOUDBILL_PAYMENT_SEPA_CREDITOR_IBAN": "DE02120300000000202051",
                 "CLOUDBILL_PAYMENT_SEPA_CREDITOR_ID": "DE98ZZZ09999999999"}


USAGE_LOG_WORKER = "billing_factory.usage_log"


def cluster_env(log_dir: Path, isolation: str | None = None, usage_log_worker: bool = True) -> Cluster:
    """Environment for each service: own Postgres schema and consumer group; shared Kafka, FerretDB, SeaweedFS.

    As deployed (deploy/run-distributed.sh, docker-compose.yml), the raw usage log is written by its own process
    (`services.billing_factory.usage_log`) unless `usage_log_worker` is off; then the billing factory writes it."""
    run = isolation or uuid.uuid4().hex[:8]
    internal, admin = f"internal-{run}", f"admin-{run}"
    ports = dict(zip([*SERVICES, USAGE_LOG_WORKER], free_ports(len(SERVICES) + 1)))
    cluster = Cluster(admin_token=admin)
    for name, prefix in SERVICES.items():
        p = f"CLOUDBILL_{prefix}_"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDBILL_") or k.startswith("CLOUDBILL_STATE")}
        env.update({
            p + "MODE": "distributed", p + "ENVIRONMENT": "test", p + "PORT": str(ports[name]), p + "INTERNAL_TOKEN": internal,
            p + "DATA_DIR": str(log_dir / name), p + "DATABASE_URL": os.environ["CLOUDBILL_PG_URL"],
            p + "DATABASE_SCHEMA": f"{name.split('_')[0]}_{run}", p + "KAFKA_BOOTSTRAP": os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"],
            p + "KAFKA_GROUP": f"cloudbill-{name}-{run}", p + "KAFKA_TOPIC_PREFIX": f"t{run}.", p + "MONGO_URL": os.environ["CLOUDBILL_MONGO_URL"],
            p + "MONGO_DATABASE": f"cloudbill_{run}", p + "S3_ENDPOINT": os.environ["CLOUDBILL_S3_ENDPOINT"],
            p + "S3_ACCESS_KEY": os.environ["CLOUDBILL_S3_ACCESS_KEY"], p + "S3_SECRET_KEY": os.environ["CLOUDBILL_S3_SECRET_KEY"],
            p + "S3_BUCKET": f"archive-{run}", "PYTHONPATH": str(REPO),
        })
        if name == "payment_factory":
            env.update(SEPA_CREDITOR)
        if name == "invoice_factory":
            env[p + "RENDER_WORKERS"] = str(os.cpu_count() or 2)  # as deployed: documents render in a process pool
        if name == "billing_factory":
            env[p + "USAGE_LOG_GROUP"] = f"cloudbill-usage-log-{run}"
        if name == "interface_layer":
            env.update({p + "ADMIN_TOKEN": admin, p + "BILLING_URL": f"http://127.0.0.1:{ports['billing_factory']}",
                        p + "INVOICE_URL": f"http://127.0.0.1:{ports['invoice_factory']}",
                        p + "PAYMENT_URL": f"http://127.0.0.1:{ports['payment_factory']}"})
        log_dir.mkdir(parents=True, exist_ok=True)
        cluster.services[name] = ServiceProcess(name, ports[name], env, log_dir / f"{name}.log")
    if usage_log_worker:
        billing = cluster.services["billing_factory"].env
        billing["CLOUDBILL_BILLING_USAGE_LOG_CONSUMER"] = "false"
        port = ports[USAGE_LOG_WORKER]
        env = {**billing, "CLOUDBILL_BILLING_PORT": str(port), "CLOUDBILL_BILLING_DATA_DIR": str(log_dir / "usage_log")}
        env.pop("CLOUDBILL_BILLING_USAGE_LOG_CONSUMER")
        cluster.services[USAGE_LOG_WORKER] = ServiceProcess(USAGE_LOG_WORKER, port, env, log_dir / "usage_log.log")
    return cluster
