"""A generated seed document of any size (benchmarks): one organisation, one event, N entries."""

from __future__ import annotations

from typing import Any


def _imei(n: int) -> str:
    body = f"35999{n:09d}"
    total = 0
    for i, c in enumerate(body):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def event(entries: int = 200, slug: str = "synthetic-rally") -> dict[str, Any]:
    classes = [{"code": f"M-{i}", "name": f"Moto {i}"} for i in range(1, 9)] + [
        {"code": "C-1", "name": "Car 1"},
        {"code": "S-1", "name": "SSV 1"},
    ]
    users, vehicles, devices, rows = [], [], [], []
    for n in range(1, entries + 1):
        email = f"crew{n:04d}@example.com"
        users.append({"email": email, "first_name": "Crew", "last_name": f"Member{n:04d}"})
        plate = f"SYN-{n:04d}"
        vehicles.append({"plate": plate, "make": "KTM", "model": "450 Rally", "year": 2025, "cc": 450})
        devices.append({"imei": _imei(n), "model": "Teltonika FMB920"})
        rows.append(
            {
                "race_number": n,
                "class": classes[n % len(classes)]["code"],
                "vehicle": plate,
                "crew": [{"user": email, "role": "rider"}],
                "devices": [{"imei": _imei(n), "purpose": "chassis"}],
            }
        )
    return {
        "organizations": [
            {
                "slug": f"{slug}-org",
                "name": "Synthetic Organiser",
                "vehicles": [v["plate"] for v in vehicles],
                "devices": [d["imei"] for d in devices],
            }
        ],
        "users": users,
        "vehicles": vehicles,
        "devices": devices,
        "events": [
            {
                "organization": f"{slug}-org",
                "slug": slug,
                "name": f"Synthetic rally ({entries} entries)",
                "discipline": "rally",
                "timezone": "Europe/Tirane",
                "starts_at": "2027-06-05T08:00:00+02:00",
                "ends_at": "2027-06-12T20:00:00+02:00",
                "classes": classes,
                "entries": rows,
            }
        ],
    }
