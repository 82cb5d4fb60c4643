"""The argument parser every command is read with: argparse's own errors as one
line, like ours (`edgeinfer CMD: what went wrong (see edgeinfer CMD --help)`,
exit status 2), never a usage block; an unknown option is named by the command
it was given to."""
import argparse
import sys


class OneLineErrors(argparse.ArgumentParser):
    def error(self, message):
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)

    def parse_args(self, args=None, namespace=None):
        parsed, unknown = self.parse_known_args(args, namespace)
        if unknown:
            self._chosen_command(parsed).error(f"unrecognized arguments: {' '.join(unknown)}")
        return parsed

    def _chosen_command(self, parsed):
        """The subcommand's parser the arguments went to (this one when none)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(getattr(parsed, action.dest, None), self)
        return self
