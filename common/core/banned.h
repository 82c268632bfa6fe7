/*
 * banned.h: functions we never call. Included last by every .c file of the
 * project (through util.h), so a use of one of these is a compile error.
 * Use buf_*, xasprintf, parse_int and gmtime_r instead; local time goes
 * through tz.h.
 */
#ifndef BANNED_H
#define BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
/* Local time goes through tz.h: the process has one zone, and tz.c owns it. */
#undef localtime_r
#define localtime_r(t, tm) BANNED(localtime_r)
#undef mktime
#define mktime(tm) BANNED(mktime)
#undef tzset
#define tzset() BANNED(tzset)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)

#endif
