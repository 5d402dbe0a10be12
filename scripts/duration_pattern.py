#!/usr/bin/env python3
"""The patterns of docs/openapi.yaml's ExpiryText and DelayText (issue 17, Schemathesis).

A duration in the API is `0`, a number of seconds, or a number with a unit (s m h d w),
without leading zeros, within the field's bounds (RetractServer's MessageForm.duration,
DurationText.Bounds). A JSON Schema pattern cannot compare numbers, so the bounds are
spelled out digit by digit. Prints both patterns, checked against that rule on random
values; paste them into the contract when a bound changes.

Usage: scripts/duration_pattern.py
"""
import random
import re

def rr(lo, hi):
    """regex alternatives for integers lo..hi, no leading zeros"""
    parts=[]
    def same_len(a,b):
        # a,b strings same length
        if a==b: return [a]
        if len(a)==1: return [f"[{a}-{b}]" if a!=b else a]
        out=[]
        # common prefix
        i=0
        while i<len(a) and a[i]==b[i]: i+=1
        if i>0:
            return [a[:i]+x for x in same_len(a[i:],b[i:])] if len(a[i:])>0 else [a]
        # a[0]<b[0]
        n=len(a)-1
        if a[1:]=="0"*n and b[1:]=="9"*n:
            return [f"[{a[0]}-{b[0]}]"+"[0-9]"*n if a[0]!=b[0] else a[0]+"[0-9]"*n]
        res=[]
        # a[0] followed by a[1:]..9..9
        if a[1:]=="0"*n:
            start=int(a[0])
        else:
            res+= [a[0]+x for x in same_len(a[1:],"9"*n)]
            start=int(a[0])+1
        if b[1:]=="9"*n:
            end=int(b[0])
        else:
            end=int(b[0])-1
        if start<=end:
            res.append((f"[{start}-{end}]" if start!=end else str(start))+"[0-9]"*n)
        if b[1:]!="9"*n:
            res+= [b[0]+x for x in same_len("0"*n,b[1:])]
        return res
    out=[]
    a=lo
    while a<=hi:
        l=len(str(a)); top=min(hi,10**l-1)
        out+=same_len(str(a),str(top))
        a=top+1
    return out
def compile_alt(lst): return "(?:"+"|".join(lst)+")" if len(lst)>1 else lst[0]
def duration_pattern(lo, hi, bare=True):
    units={"s":1,"m":60,"h":3600,"d":86400,"w":604800}
    alts=[]
    if lo==0: alts.append("0")
    if bare:
        alts.append(compile_alt(rr(max(lo,1),hi)))
    for u,f in units.items():
        a=max(-(-lo//f),0); b=hi//f
        # value 0 with unit: "0s" — server: Int("0")=0 accepted if lo==0
        if a<=b:
            vals=rr(max(a,1),b) if b>=1 else []
            if a==0 and lo==0: alts.append("0"+u)
            if vals: alts.append(compile_alt(vals)+u)
    return "^(?:"+"|".join(alts)+")$"


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def accepted(text, lo, hi):
    """What the server takes: its grammar, then the bounds."""
    if not re.fullmatch(r"0[smhdw]?|[1-9][0-9]{0,11}[smhdw]?", text):
        return False
    unit = text[-1] if text[-1] in UNITS else ""
    value = int(text[:-1] if unit else text)
    return lo <= value * UNITS.get(unit, 1) <= hi


for name, lo, hi in [("ExpiryText", 60, 3650 * 86400), ("DelayText", 0, 30 * 86400)]:
    pattern = duration_pattern(lo, hi)
    compiled = re.compile(pattern)
    for _ in range(200_000):
        value = random.choice([random.randint(0, 100), random.randint(0, 100_000), random.randint(0, 10**10)])
        text = f"{value}{random.choice(['', 's', 'm', 'h', 'd', 'w'])}"
        text = random.choice([text, "0" + text, text.upper(), " " + text]) if random.random() < 0.1 else text
        assert bool(compiled.fullmatch(text)) == accepted(text, lo, hi), (name, text)
    print(f"{name}: {pattern}")
