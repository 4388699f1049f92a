# loop_sum — sum of i*i for i below 200000 (ALU and a backward branch)
mov %r0, 0
mov %r1, 0
loop:
mov %r2, %r1
mul %r2, %r1
add %r0, %r2
add %r1, 1
jlt %r1, 200000, loop
exit
