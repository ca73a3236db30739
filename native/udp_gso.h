// UDP's segmentation offloads (Linux 4.18 and 5.0), for C libraries whose headers predate them.
#pragma once

#include <netinet/udp.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
