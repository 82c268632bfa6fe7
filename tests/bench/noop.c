/*
 * The reference for the webhook figure in `make bench`: a FastCGI program that reads the
 * request and answers 200 with a constant body, and does nothing else.
 */
#include <fcgiapp.h>
#include <string.h>

int main(void)
{
	FCGX_Request r;
	static const char answer[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
	                             "Content-Length: 17\r\n\r\n{\"received\":true}";
	char buf[65536];
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		while (FCGX_GetStr(buf, sizeof(buf), r.in) > 0)
			;
		FCGX_PutStr(answer, (int)strlen(answer), r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
