#!/usr/bin/env python3
"""Write a synthetic member list for benchmarks.

    scripts/gen-list.py N [OUT.csv] [--seed S] [--messy]

Writes N members (a header line plus N rows) with the columns
email,first_name,last_name,organisation,status to OUT.csv (default: stdout). The output
depends only on N, the seed and --messy, so runs are repeatable. Every address is on a
reserved example domain. With --messy, about 1 row in 100 is a duplicate in other case,
1 in 200 is unsubscribed and 1 in 500 has an invalid address, as in real exports.
"""

import argparse
import random
import sys
import unicodedata

FIRST = ["Amara", "Ben", "Chloe", "Daniel", "Eleanor", "Farid", "Grace", "Harpreet", "Isabel",
         "Jamal", "Katarzyna", "Liam", "Maya", "Nikhil", "Olivia", "Pavel", "Quentin", "Rachel",
         "Samuel", "Tara", "Umar", "Victoria", "William", "Xin", "Yusuf", "Zoë", "Søren", "Renée"]
LAST = ["Okafor", "Hughes", "Patel", "Wright", "Singh", "Rahman", "O'Brien", "Kaur", "Costa",
        "Ahmed", "Nowak", "Murphy", "Johnson", "Verma", "Brown", "Novák", "Lefèvre", "Green",
        "Adeyemi", "Walsh", "Farooq", "Lee", "Taylor", "Zhao", "Demir", "Martin"]
ORGS = ["Okafor MedTech Ltd", "University of the Midlands (example)", "Midlands NHS Trust (example)",
        "HealthData Partners", "Wright Diagnostics", "Costa, Reyes & Partners", "Verma AI Health"]
DOMAINS = ["example.com", "example.org", "example.net", "medtech.example.com",
           "uni.example.org", "healthdata.example.net"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("count", type=int, help="number of members")
    ap.add_argument("out", nargs="?", help="output file (default: stdout)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--messy", action="store_true",
                    help="add duplicates, unsubscribed rows and invalid addresses")
    args = ap.parse_args()
    if args.count < 0:
        ap.error("count must be >= 0")

    rng = random.Random(args.seed)
    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout
    write = out.write
    write("email,first_name,last_name,organisation,status\n")
    previous = None
    for i in range(args.count):
        first = rng.choice(FIRST)
        last = rng.choice(LAST)
        org = rng.choice(ORGS)
        domain = DOMAINS[i % len(DOMAINS)]
        # addresses stay ASCII so any SMTP server takes them; names keep their accents
        plain = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
        local = f"{plain}.{i}".lower().replace("'", "")
        email = f"{local}@{domain}"
        status = "subscribed"
        if args.messy:
            roll = rng.random()
            if roll < 0.01 and previous:
                email = previous.upper()
            elif roll < 0.015:
                status = "unsubscribed"
            elif roll < 0.017:
                email = f"{local}@{domain.split('.')[0]}"
        org_field = f'"{org}"' if "," in org else org
        write(f"{email},{first},{last},{org_field},{status}\n")
        previous = email
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
