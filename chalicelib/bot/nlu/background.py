"""Built-in out-of-scope ("background") examples for knowledge bases that have none.

A knowledge base lists what the bot *should* answer; without negative examples a classifier
assigns every message to some intent. These generic off-topic messages (everyday chit-chat,
other kinds of businesses and services, homework, trivia, keyboard mashing), in Chinese and
English, are learned as a background class. Any of them that is too close to one of the
knowledge base's own examples (cosine similarity of the sentence embeddings above
``CONFLICT_SIMILARITY``) is dropped, so a business whose domain overlaps a topic keeps it.
A knowledge base that provides its own ``oos`` examples uses those instead.
"""

from __future__ import annotations

CONFLICT_SIMILARITY = 0.9

EXAMPLES: tuple[str, ...] = (
    # everyday chit-chat, trivia, requests for content
    "今天外面冷不冷", "这周末会不会下大雪", "晚饭做什么菜比较简单", "红烧肉怎么做才好吃",
    "推荐一部好看的电影",
    "最近有什么好听的歌", "讲个冷笑话听听", "你喜欢什么颜色", "你多大了", "人生的意义是什么",
    "地球到月亮有多远", "恐龙是怎么灭绝的", "帮我写一首关于春天的诗", "帮我翻译一句日语", "这道物理题怎么做",
    "作文开头怎么写比较吸引人", "二次方程的求根公式是什么", "猫为什么喜欢抓沙发", "狗狗拉肚子吃什么药",
    "头疼发烧应该挂哪个科", "怎么才能快速减肥", "失眠有什么好办法", "周末去哪里爬山比较好",
    "附近有什么好吃的火锅",
    "世界杯决赛是哪天", "湖人队昨晚赢了吗", "明星八卦有什么新闻", "股票明天会涨吗", "比特币现在多少钱一个",
    "黄金价格最近怎么样", "怎么学好英语口语", "考研要准备多久", "简历怎么写比较好", "面试的时候紧张怎么办",
    "租房合同要注意什么", "房贷利率是多少", "装修用什么地板好", "汽车保养多久做一次", "驾照扣分怎么处理",
    "护照办理需要什么材料", "签证被拒了怎么办", "公积金怎么提取", "医保报销比例是多少", "养老保险交多少年",
    "燃气费怎么缴纳", "物业费太贵了怎么办", "快递到哪里了", "网购的衣服怎么退货", "外卖送错了怎么办",
    "机票改签要多少手续费", "酒店可以提前入住吗", "火车站怎么走", "地铁几点开始运营", "打车软件哪个便宜",
    "信用卡还款日是哪天", "银行理财产品靠谱吗", "借呗额度怎么提升", "支付宝怎么开发票",
    "游戏账号被封了怎么办",
    "视频会员怎么退款", "音乐软件怎么下载歌曲", "电脑蓝屏了怎么修", "python怎么读取文件", "excel怎么做透视表",
    "哪款笔记本电脑适合学生", "相机和手机拍照哪个好", "洗衣机漏水怎么办", "空调不制冷怎么回事",
    "冰箱有异味怎么处理",
    "孩子不爱写作业怎么办", "宝宝几个月可以吃辅食", "结婚要准备哪些东西", "生日礼物送什么好",
    "帮我起个英文名",
    "啊啊啊啊", "嗯嗯嗯", "哦", "呵呵呵", "随便说点什么", "测试一下", "123456", "阿斯顿发生地方",
    "qwertyuiop",
    "啦啦啦啦啦", "。。。", "你是男的还是女的", "你会唱歌吗", "你能陪我聊天吗",
    # English
    "what's the weather like this weekend", "will it snow tomorrow", "tell me a funny joke",
    "what is the meaning of life",
    "how far is the moon from the earth", "write me a poem about the sea",
    "translate this sentence into french",
    "solve this equation for x", "help me with my chemistry homework",
    "who won the basketball game last night",
    "what's a good recipe for pancakes", "recommend a good restaurant nearby",
    "best movies to watch this year",
    "what music do you like", "how do I lose weight fast", "my dog is sick what should I do",
    "how to cure a headache",
    "what's the price of bitcoin today", "should I buy tesla stock", "how do I apply for a passport",
    "my visa application was rejected", "how do I renew my driver's license", "where is my package delivery",
    "how do I return shoes I bought online", "my food order arrived cold", "can I change my flight date",
    "what time does the museum open", "book a table for two tonight", "how do I reset my email password",
    "my credit card was declined at the store", "how do I open a bank account",
    "what is the mortgage interest rate",
    "my landlord won't return my deposit", "how often should I service my car", "my laptop won't turn on",
    "how do I learn python", "write a cover letter for me", "how to prepare for a job interview",
    "what should I buy my wife for her birthday", "how many calories in an apple",
    "what is quantum computing",
    "who is the president of france", "how do you say hello in spanish", "are you a robot",
    "do you have feelings",
    "sing me a song", "i'm bored", "lol", "asdfgh", "zxcvbnm qwerty", "test test", "blah blah blah", "hmm",
    "my game account got banned", "how do I cancel my gym membership",
    "my streaming subscription charged me twice",
    "how do I pay my electricity bill", "my water heater is broken", "how do I book a doctor appointment",
)
