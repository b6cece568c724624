import sys; import os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from gptq_ref import *
W = [[0.9,-0.3,0.2,0.5],[-0.4,0.1,0.7,-0.6]]
X = [[1.0,0.2,-0.1,0.3],[0.5,-1.0,0.4,0.0],[-0.3,0.6,1.2,-0.5],[0.8,0.1,-0.7,1.1],[0.0,0.9,0.3,-0.2],[-1.1,-0.4,0.5,0.6]]
H = [[2*sum(X[t][i]*X[t][j] for t in range(6)) for j in range(4)] for i in range(4)]
for bits, gs, sym in [(4,-1,True),(4,-1,False),(8,-1,True),(4,2,True)]:
    Q, s, z = fasterquant(W, H, bits, gs, sym, 0.01)
    print(bits, gs, sym, [q for r in Q for q in r], s)
# a bigger case: 3x8, blocksize 4 (lazy updates), g=3 (groups start inside blocks: Q1), act-order, asym
import random
random.seed(1)
W2 = [[round(random.uniform(-1,1),3) for _ in range(8)] for _ in range(3)]
X2 = [[round(random.uniform(-1,1),3) for _ in range(8)] for _ in range(12)]
H2 = [[2*sum(X2[t][i]*X2[t][j] for t in range(12)) for j in range(8)] for i in range(8)]
print("W2", W2); print("X2", X2)
for act, static in [(False, False), (True, False), (True, True)]:
    Q, s, z = fasterquant(W2, H2, 4, 3, False, 0.01, blocksize=4, actorder=act, static_groups=static)
    print("case2 act", act, "static", static, [q for r in Q for q in r])
