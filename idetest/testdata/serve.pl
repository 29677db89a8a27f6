#!/usr/bin/perl
# serve.pl PORT TEXT [echo]: listens on 127.0.0.1:PORT; each connection gets "TEXT\n" and is
# closed, or with "echo" gets "TEXT\n" and then every line echoed back until it closes.
use strict;
use warnings;
use IO::Socket::INET;
my ($port, $text, $mode) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port, Listen => 16, ReuseAddr => 1)
  or die "listen $port: $!";
$SIG{CHLD} = 'IGNORE';
while (my $c = $s->accept) {
	if (fork() == 0) {
		$c->autoflush(1);
		print $c "$text\n";
		if (($mode // "") eq "echo") {
			while (my $l = <$c>) { print $c $l; }
		}
		close $c;
		exit 0;
	}
	close $c;
}
