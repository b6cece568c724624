# Pure-python float64 port of IST/AutoGPTQ fasterquant + Quantizer (docs/gptq.md#solver, #quantizer), for cross-checks.
import math
def find_params(rows, bits, sym):
    maxq = 2**bits - 1
    out = []
    for x in rows:
        xmin = min(min(x), 0.0); xmax = max(max(x), 0.0)
        if sym:
            xmax = max(abs(xmin), xmax)
            if xmin < 0: xmin = -xmax
        if xmin == 0 and xmax == 0: xmin, xmax = -1.0, 1.0
        s = (xmax - xmin) / maxq
        z = (maxq + 1) / 2 if sym else round(-xmin / s)
        out.append((s, z))
    return out
def quant(x, s, z, maxq):
    q = min(max(round(x / s) + z, 0), maxq)
    return q, s * (q - z)
def chol(A):
    n = len(A); L = [[0.0]*n for _ in range(n)]
    for i in range(n):
        for j in range(i+1):
            s = A[i][j] - sum(L[i][k]*L[j][k] for k in range(j))
            if i == j:
                if s <= 0: raise ValueError("not PD")
                L[i][j] = math.sqrt(s)
            else: L[i][j] = s / L[j][j]
    return L
def inv_lower(L):
    n = len(L); X = [[0.0]*n for _ in range(n)]
    for i in range(n):
        X[i][i] = 1.0 / L[i][i]
        for j in range(i):
            X[i][j] = -sum(L[i][k]*X[k][j] for k in range(j, i)) / L[i][i]
    return X
def fasterquant(W, H, bits, gs, sym, percdamp, blocksize=128, actorder=False, static_groups=False):
    W = [r[:] for r in W]; H = [r[:] for r in H]
    rows, cols = len(W), len(W[0]); maxq = 2**bits - 1
    rowp = find_params(W, bits, sym)
    for i in range(cols):
        if H[i][i] == 0:
            H[i][i] = 1.0
            for r in range(rows): W[r][i] = 0.0
    groups = []
    if static_groups and gs != -1:
        for g0 in range(0, cols, gs): groups.append(find_params([r[g0:g0+gs] for r in W], bits, sym))
    perm = list(range(cols))
    if actorder:
        perm = sorted(range(cols), key=lambda i: -H[i][i])  # stable
        W = [[r[p] for p in perm] for r in W]
        H = [[H[a][b] for b in perm] for a in perm]
    damp = percdamp * sum(H[i][i] for i in range(cols)) / cols
    for i in range(cols): H[i][i] += damp
    Li = inv_lower(chol(H))
    Hinv = [[sum(Li[k][i]*Li[k][j] for k in range(cols)) for j in range(cols)] for i in range(cols)]
    Lh = chol(Hinv); U = [[Lh[j][i] for j in range(cols)] for i in range(cols)]
    Q = [[0]*cols for _ in range(rows)]
    cur = rowp; scales = []; zeros = []
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        W1 = [r[i1:i2] for r in W]; Err1 = [[0.0]*(i2-i1) for _ in range(rows)]
        for i in range(i2 - i1):
            c = i1 + i
            if gs != -1:
                if not static_groups:
                    if c % gs == 0:
                        cur = find_params([r[c:c+gs] for r in W], bits, sym)
                        scales.append([p[0] for p in cur]); zeros.append([p[1] for p in cur])
                else:
                    cur = groups[perm[c] // gs]
            d = U[c][c]
            for r in range(rows):
                q, dq = quant(W1[r][i], cur[r][0], cur[r][1], maxq)
                Q[r][c] = q
                e = (W1[r][i] - dq) / d
                Err1[r][i] = e
                for j in range(i, i2 - i1): W1[r][j] -= e * U[c][i1 + j]
        for r in range(rows):
            for j in range(i2, cols):
                W[r][j] -= sum(Err1[r][k] * U[i1 + k][j] for k in range(i2 - i1))
    inv = [0]*cols
    for k, p in enumerate(perm): inv[p] = k
    Q = [[row[inv[c]] for c in range(cols)] for row in Q]
    if gs == -1: scales = [[p[0] for p in rowp]]; zeros = [[p[1] for p in rowp]]
    if static_groups and gs != -1:
        scales = [[p[0] for p in g] for g in groups]; zeros = [[p[1] for p in g] for g in groups]
    return Q, scales, zeros
