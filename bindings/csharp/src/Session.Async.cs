// Streaming as IAsyncEnumerable, for .NET (Core 3.0 and later; built for
// net8.0 by Ernie.csproj). Not compiled by Mono's mcs (no NET symbol there)
// and NOT TESTED in this repository's CI, which has no .NET SDK.
#if NET
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Ernie
{
    public sealed partial class Session
    {
        /// <summary>Streams the answer to the conversation. The generation runs on a
        /// thread-pool thread; leaving the loop early or cancelling the token stops it
        /// (the token also makes the loop throw OperationCanceledException). Errors and
        /// exceptions thrown by options.OnEvent/OnToolCall surface from the loop.</summary>
        public IAsyncEnumerable<GenerationEventArgs> ChatStreamAsync(IList<ChatMessage> messages, ChatOptions chat = null,
                                                                     GenerateOptions options = null,
                                                                     CancellationToken cancellationToken = default)
        {
            if (messages == null) throw new ArgumentNullException(nameof(messages));
            return StreamAsync((opts, token) => Chat(messages, chat, opts, token), options, cancellationToken);
        }

        /// <summary>Streams the continuation of prompt token ids (see ChatStreamAsync).</summary>
        public IAsyncEnumerable<GenerationEventArgs> GenerateStreamAsync(IList<int> prompt, GenerateOptions options = null,
                                                                         CancellationToken cancellationToken = default)
        {
            if (prompt == null) throw new ArgumentNullException(nameof(prompt));
            return StreamAsync((opts, token) => Generate(prompt, opts, token), options, cancellationToken);
        }

        private async IAsyncEnumerable<GenerationEventArgs> StreamAsync(Func<GenerateOptions, CancellationToken, GenerateResult> generate,
                                                                        GenerateOptions options,
                                                                        [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var channel = Channel.CreateUnbounded<GenerationEventArgs>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            options ??= new GenerateOptions();
            Action<GenerationEventArgs> userCallback = options.OnEvent;
            GenerateOptions streaming = CopyWithEventSink(options, e =>
            {
                userCallback?.Invoke(e);
                channel.Writer.TryWrite(e);
            });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task worker = Task.Run(() =>
            {
                try
                {
                    generate(streaming, stop.Token);
                    channel.Writer.TryComplete();
                }
                catch (Exception e)
                {
                    channel.Writer.TryComplete(e);
                }
            });
            try
            {
                await foreach (GenerationEventArgs e in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                    yield return e;
            }
            finally
            {
                stop.Cancel(); // the consumer left early (or was cancelled): stop generating
                await worker.ConfigureAwait(false); // never throws: the worker catches everything
            }
        }

        private static GenerateOptions CopyWithEventSink(GenerateOptions o, Action<GenerationEventArgs> sink)
        {
            return new GenerateOptions
            {
                Sampling = o.Sampling,
                MaxTokens = o.MaxTokens,
                StopStrings = o.StopStrings,
                StopTokens = o.StopTokens,
                Logprobs = o.Logprobs,
                Threads = o.Threads,
                Reasoning = o.Reasoning,
                ReasoningBudget = o.ReasoningBudget,
                ResponseSchemaJson = o.ResponseSchemaJson,
                OnEvent = sink,
                OnToolCall = o.OnToolCall,
                MaxToolRounds = o.MaxToolRounds,
            };
        }
    }
}
#endif
