# bubble — bubble sort of 64 pseudo-random 32-bit numbers on the stack,
# then a position-weighted sum of the sorted array
mov %r1, %r10
add %r1, -256
mov %r2, 12345
fill:
mul32 %r2, 1103515245
add32 %r2, 12345
stxw [%r1+0], %r2
add %r1, 4
jlt %r1, %r10, fill
mov %r6, 63
pass:
mov %r1, %r10
add %r1, -256
mov %r7, 0
step:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
jle %r2, %r3, ordered
stxw [%r1+0], %r3
stxw [%r1+4], %r2
ordered:
add %r1, 4
add %r7, 1
jlt %r7, %r6, step
sub %r6, 1
jne %r6, 0, pass
mov %r1, %r10
add %r1, -256
mov %r0, 0
mov %r3, 1
sum:
ldxw %r2, [%r1+0]
mul %r2, %r3
add %r0, %r2
add %r3, 1
add %r1, 4
jlt %r1, %r10, sum
exit
